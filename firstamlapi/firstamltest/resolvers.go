package firstamltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/complykit/complykit-go/gen/firstamlgql"
)

// rootResolver returns the resolver of a root field ("Query.me"), or nil
// for a field of the schema the fake does not implement.
func rootResolver(field string) resolver {
	switch field {
	case "Query.me":
		return resolveMe
	case "Query.caseDetails":
		return resolveCaseDetails
	case "Mutation.createLiteCase":
		return resolveCreateLiteCase
	case "Mutation.createCaseForIndividuals":
		return resolveCreateCaseForIndividuals
	case "Mutation.createCase":
		return resolveCreateCase
	case "Mutation.createCaseForEntities":
		return resolveCreateCaseForEntities
	case "Mutation.escalateLiteCase":
		return resolveEscalateLiteCase
	case "Mutation.submitCase":
		return resolveSubmitCase
	case "Mutation.completeCase":
		return resolveCompleteCase
	case "Mutation.createWebhookSubscription":
		return resolveCreateWebhookSubscription
	case "Mutation.deleteWebhookSubscription":
		return resolveDeleteWebhookSubscription
	case "Mutation.addWebhookSubscriptionTarget":
		return resolveAddWebhookSubscriptionTarget
	case "Mutation.removeWebhookSubscriptionTarget":
		return resolveRemoveWebhookSubscriptionTarget
	case "Query.__schema":
		return resolveSchema
	case "Query.__type":
		return resolveType
	}
	return nil
}

// The scopes the root fields require (schema descriptions; [DOC]).
const (
	scopeReadOnly       = "read-only"
	scopeCaseManagement = "case-management"
	scopeAPIManagement  = "api-management"
)

func (e *executor) requireScope(scope string) error {
	if slices.Contains(e.grant.Scopes, scope) {
		return nil
	}
	return &fieldError{msg: "You are not authorized to perform this operation: the " + scope + " scope is required.", code: "FORBIDDEN"}
}

func resolveMe(e *executor, _ map[string]any) (any, error) {
	orgs := make([]any, len(e.s.orgs))
	for i, o := range e.s.orgs {
		orgs[i] = orgObject(o)
	}
	return map[string]any{
		"apiClientId":             e.s.ClientID + "@clients",
		"friendlyApiClientName":   "Public API - complykit fake",
		"scopes":                  append([]string{}, e.grant.Scopes...),
		"accessibleOrganizations": orgs,
	}, nil
}

func resolveCaseDetails(e *executor, args map[string]any) (any, error) {
	if err := e.requireScope(scopeReadOnly); err != nil {
		return nil, err
	}
	id, _ := args["caseId"].(string)
	for _, c := range e.s.cases {
		if c.ID == id && e.s.org(c.OrganizationID) != nil {
			return e.s.caseObject(c, e.base), nil
		}
	}
	return validationErrorsObject([]ValidationError{{Message: "The case does not exist or is not accessible to this API client.", FieldPath: fieldPath("caseId")}}), nil
}

// decodeInput converts a coerced input object to its generated Go type.
func decodeInput(v any, out any) error {
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		return &fieldError{msg: "firstamltest: cannot read the input: " + err.Error(), code: "BAD_USER_INPUT"}
	}
	return nil
}

func resolveCreateLiteCase(e *executor, args map[string]any) (any, error) {
	if err := e.requireScope(scopeCaseManagement); err != nil {
		return nil, err
	}
	var in firstamlgql.CreateLiteCaseInput
	if err := decodeInput(args["input"], &in); err != nil {
		return nil, err
	}
	if errs, ok := e.s.nextScripted(); ok {
		return validationErrorsObject(errs), nil
	}
	errs := e.s.checkOrganization(in.OrganizationId, in.OfficeId)
	ind := in.Individual
	if blank(ind.EmailAddress) && blank(ind.PhoneNumber) {
		errs = append(errs, ValidationError{Message: "A case contact needs an email address or a phone number.", FieldPath: fieldPath("individual", "emailAddress")})
	}
	if len(errs) > 0 {
		return validationErrorsObject(errs), nil
	}
	pn := ind.PreferredName
	c := newCase(in.OrganizationId, in.OfficeId, in.Reference, in.Name, []Individual{{
		PreferredName: &Name{First: pn.FirstName, Middle: deref(pn.MiddleName), Last: pn.LastName},
		EmailAddress:  deref(ind.EmailAddress),
		PhoneNumber:   deref(ind.PhoneNumber),
		IsCaseContact: true, // the lite case's individual is the case contact [DOC]
		RequiresCDD:   true, // ... and needs verification [DOC]
	}})
	c.Lite = true
	c = e.s.store(c, in.InitialState)
	return e.s.caseObject(c, e.base), nil
}

func resolveCreateCaseForIndividuals(e *executor, args map[string]any) (any, error) {
	if err := e.requireScope(scopeCaseManagement); err != nil {
		return nil, err
	}
	var in firstamlgql.CreateCaseForIndividualsInput
	if err := decodeInput(args["input"], &in); err != nil {
		return nil, err
	}
	if errs, ok := e.s.nextScripted(); ok {
		return validationErrorsObject(errs), nil
	}
	errs := e.s.checkOrganization(in.OrganizationId, in.OfficeId)
	if len(in.Individuals) == 0 {
		errs = append(errs, ValidationError{Message: "At least one individual is required.", FieldPath: fieldPath("individuals")})
	}
	inds, indErrs, contacts := individualsFromInput(in.Individuals)
	errs = append(errs, indErrs...)
	errs = append(errs, checkInitialState(in.InitialState, contacts)...)
	errs = append(errs, e.s.checkAssignedUsers(in.OrganizationId, in.OfficeId, in.AssignedUsers)...)
	if len(errs) > 0 {
		return validationErrorsObject(errs), nil
	}
	c := newCase(in.OrganizationId, in.OfficeId, in.Reference, in.Name, inds)
	c.AssignedUsers = in.AssignedUsers
	c.Lead, c.Requestor = userFromContact(in.Lead), userFromContact(in.Requestor)
	c = e.s.store(c, in.InitialState)
	return e.s.caseObject(c, e.base), nil
}

// individualsFromInput converts the individuals of a create input and
// applies the documented rules to each: a case contact needs an email
// address or a phone number [DOC 2022-02-17], and (inferred) every
// individual a legal or a preferred name. contacts counts the case
// contacts, for checkInitialState.
func individualsFromInput(in []firstamlgql.IndividualDetailsInput) (inds []Individual, errs []ValidationError, contacts int) {
	inds = make([]Individual, len(in))
	for i, ind := range in {
		at := strconv.Itoa(i)
		contact := ind.IsCaseContact != nil && *ind.IsCaseContact // null means false [DOC]
		if contact {
			contacts++
			if blank(ind.EmailAddress) && blank(ind.PhoneNumber) {
				errs = append(errs, ValidationError{Message: "A case contact needs an email address or a phone number.", FieldPath: fieldPath("individuals", at, "emailAddress")})
			}
		}
		if ind.LegalName == nil && ind.PreferredName == nil {
			errs = append(errs, ValidationError{Message: "An individual needs a legal name or a preferred name.", FieldPath: fieldPath("individuals", at, "legalName")})
		}
		inds[i] = Individual{
			LegalName:     nameFromInput(ind.LegalName),
			PreferredName: nameFromInput(ind.PreferredName),
			EmailAddress:  deref(ind.EmailAddress),
			PhoneNumber:   deref(ind.PhoneNumber),
			IsCaseContact: contact,
			RequiresCDD:   ind.NeedsVerification == nil || *ind.NeedsVerification,
			DateOfBirth:   deref(ind.DateOfBirth),
		}
	}
	return inds, errs, contacts
}

// checkInitialState applies the documented rule: SUBMIT_TO_FIRST_AML
// needs at least one case contact [DOC 2022-02-17].
func checkInitialState(state *firstamlgql.InitialCaseState, contacts int) []ValidationError {
	if state != nil && *state == firstamlgql.InitialCaseStateSubmitToFirstAml && contacts == 0 {
		return []ValidationError{{Message: "initialState SUBMIT_TO_FIRST_AML requires at least one individual with isCaseContact: true.", FieldPath: fieldPath("initialState")}}
	}
	return nil
}

// userFromContact is the requestor or lead given as contact details.
func userFromContact(c *firstamlgql.ContactDetailsInput) *User {
	if c == nil {
		return nil
	}
	return &User{FullName: deref(c.FullName), EmailAddress: deref(c.EmailAddress)}
}

func nameFromInput(n *firstamlgql.NameInput) *Name {
	if n == nil {
		return nil
	}
	return &Name{First: n.FirstName, Middle: deref(n.MiddleName), Last: n.LastName}
}

// fieldPath is a path into a mutation's input in First AML's documented
// shape: names and list indices, all strings
// (https://docs.firstaml.com/docs/validation/).
func fieldPath(parts ...string) []string { return parts }

// fieldPathJSON is the field_path of a control request
// (POST /__complykit/validation-errors): the documented list of strings,
// ["individuals", "1", "emailAddress"], or, as the control API first took
// it, one string, "individuals[1].emailAddress" or
// "individuals.1.emailAddress", which it splits into that list.
type fieldPathJSON []string

func (p *fieldPathJSON) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*p = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`field_path: want a list of strings, e.g. ["individuals", "1", "emailAddress"]`)
	}
	*p = nil
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		*p = append(*p, part)
	}
	return nil
}

func blank(s *string) bool { return s == nil || *s == "" }

func (s *Server) org(id string) *Organization {
	for i := range s.orgs {
		if s.orgs[i].ID == id {
			return &s.orgs[i]
		}
	}
	return nil
}

// checkOrganization applies the documented office rule (changelog
// 2022-02-17): officeId is required when the organization has offices and
// must be omitted when it has none.
func (s *Server) checkOrganization(orgID string, officeID *string) []ValidationError {
	o := s.org(orgID)
	if o == nil {
		return []ValidationError{{Message: "The organization does not exist or is not accessible to this API client.", FieldPath: fieldPath("organizationId")}}
	}
	switch {
	case len(o.Offices) > 0 && blank(officeID):
		return []ValidationError{{Message: "officeId is required: the organization has offices.", FieldPath: fieldPath("officeId")}}
	case len(o.Offices) > 0 && !slices.ContainsFunc(o.Offices, func(off Office) bool { return off.Key == *officeID }):
		return []ValidationError{{Message: "officeId is not an office of the organization.", FieldPath: fieldPath("officeId")}}
	case len(o.Offices) == 0 && officeID != nil:
		return []ValidationError{{Message: "officeId must be omitted: the organization has no offices.", FieldPath: fieldPath("officeId")}}
	}
	return nil
}

func (s *Server) nextScripted() ([]ValidationError, bool) {
	if len(s.scripted) == 0 {
		return nil, false
	}
	errs := s.scripted[0]
	s.scripted = s.scripted[1:]
	return errs, true
}

// newCase is a case a mutation is about to create, with the fields every
// create input has.
func newCase(orgID string, officeID, reference, name *string, inds []Individual) Case {
	return Case{
		OrganizationID: orgID,
		OfficeKey:      deref(officeID),
		Reference:      deref(reference),
		Name:           deref(name),
		Individuals:    inds,
	}
}

// store numbers and stores a case created by a mutation. A case submitted
// to First AML starts IN_PROGRESS, any other DRAFT (the documented case
// statuses; which one a new case gets is inferred).
func (s *Server) store(c Case, state *firstamlgql.InitialCaseState) Case {
	s.seq++
	for s.hasCase(strconv.Itoa(s.seq)) { // seeded cases may use the fake's numbers
		s.seq++
	}
	c.ID = strconv.Itoa(s.seq)
	c.Status = statusDraft
	c.TimeReceived = s.clock.Now().UTC().Format(time.RFC3339)
	if state != nil && *state == firstamlgql.InitialCaseStateSubmitToFirstAml {
		c.Status = statusInProgress
	}
	for i := range c.Individuals {
		c.Individuals[i].ID = fmt.Sprintf("ind-%s-%d", c.ID, i+1)
	}
	for i := range c.Entities {
		c.Entities[i].ID = fmt.Sprintf("ent-%s-%d", c.ID, i+1)
	}
	s.cases = append(s.cases, cloneCase(c))
	return c
}

// The documented case statuses (changelog 2023-09-12).
const (
	statusDraft          = "DRAFT"
	statusInProgress     = "IN_PROGRESS"
	statusReadyForReview = "READY_FOR_REVIEW"
	statusCompleted      = "COMPLETED"
)

func (s *Server) hasCase(id string) bool {
	return slices.ContainsFunc(s.cases, func(c Case) bool { return c.ID == id })
}
