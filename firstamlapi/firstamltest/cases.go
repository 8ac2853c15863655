package firstamltest

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/complykit/complykit-go/gen/firstamlgql"
)

// The resolvers of createCase, createCaseForEntities and the case workflow
// mutations (submitCase, completeCase, escalateLiteCase). Their rules are
// First AML's where it documents them and marked (inferred) otherwise; each
// failure is a ValidationErrors answer with a documented-shape fieldPath.

func resolveCreateCase(e *executor, args map[string]any) (any, error) {
	if err := e.requireScope(scopeCaseManagement); err != nil {
		return nil, err
	}
	if err := checkDecimal(args["input"], "transactionValue"); err != nil {
		return nil, err
	}
	var in firstamlgql.CreateCaseInput
	if err := decodeInput(args["input"], &in); err != nil {
		return nil, err
	}
	if errs, ok := e.s.nextScripted(); ok {
		return validationErrorsObject(errs), nil
	}
	errs := e.s.checkOrganization(in.OrganizationId, in.OfficeId)
	if len(in.Individuals) == 0 && in.RootEntity == nil && in.ExistingRootEntity == nil {
		errs = append(errs, ValidationError{Message: "A case needs at least one individual or a root entity.", FieldPath: fieldPath("individuals")})
	}
	inds, indErrs, contacts := individualsFromInput(in.Individuals)
	errs = append(errs, indErrs...)
	errs = append(errs, checkInitialState(&in.InitialState, contacts)...)
	errs = append(errs, e.s.checkAssignedUsers(in.OrganizationId, in.OfficeId, in.AssignedUsers)...)
	vt, vtErrs := e.s.checkVerificationType(in.OrganizationId, in.OfficeId, in.IndividualVerificationType)
	errs = append(errs, vtErrs...)
	ents, entErrs := e.s.rootEntity(in.OrganizationId, in.RootEntity, in.ExistingRootEntity)
	errs = append(errs, entErrs...)
	if len(errs) > 0 {
		return validationErrorsObject(errs), nil
	}
	c := newCase(in.OrganizationId, in.OfficeId, in.Reference, in.Name, inds)
	c.Entities = ents
	c.AssignedUsers = in.AssignedUsers
	c.Lead, c.Requestor = userFromContact(in.Lead), userFromContact(in.Requestor)
	c.Notes = deref(in.Notes)
	c.VerificationTypeID = vt.ID
	if in.CddLevel != nil || in.RiskAssessment != nil || in.TransactionValue != "" || in.CapturedActivity != nil || in.Purpose != nil || in.Nature != nil {
		c.AmlProfile = &AmlProfile{
			CapturedActivity: deref(in.CapturedActivity),
			CddLevel:         string(derefEnum(in.CddLevel)),
			RiskAssessment:   string(derefEnum(in.RiskAssessment)),
			TransactionValue: string(in.TransactionValue),
			Purpose:          deref(in.Purpose),
			Nature:           deref(in.Nature),
		}
	}
	// RUN_ALL runs a verification type's checks at once when they need
	// nothing from the individual; others wait for the individual's form
	// [DOC]. The fake's checks of the first kind pass.
	if in.RunVerificationChecks == firstamlgql.RunVerificationChecksRunAll && vt.RunsAtCreation {
		for i := range c.Individuals {
			if c.Individuals[i].RequiresCDD {
				c.Individuals[i].VerificationStatus = "PASS"
			}
		}
	}
	c = e.s.store(c, &in.InitialState)
	return e.s.caseObject(c, e.base), nil
}

func resolveCreateCaseForEntities(e *executor, args map[string]any) (any, error) {
	if err := e.requireScope(scopeCaseManagement); err != nil {
		return nil, err
	}
	var in firstamlgql.CreateCaseForEntitiesInput
	if err := decodeInput(args["input"], &in); err != nil {
		return nil, err
	}
	if errs, ok := e.s.nextScripted(); ok {
		return validationErrorsObject(errs), nil
	}
	errs := e.s.checkOrganization(in.OrganizationId, in.OfficeId)
	if in.RootEntity == nil && in.ExistingRootEntity == nil {
		errs = append(errs, ValidationError{Message: "An entity case needs a rootEntity or an existingRootEntity.", FieldPath: fieldPath("rootEntity")})
	}
	ents, entErrs := e.s.rootEntity(in.OrganizationId, in.RootEntity, in.ExistingRootEntity)
	errs = append(errs, entErrs...)
	inds, indErrs, contacts := individualsFromInput(in.Individuals)
	errs = append(errs, indErrs...)
	errs = append(errs, checkInitialState(&in.InitialState, contacts)...)
	errs = append(errs, e.s.checkAssignedUsers(in.OrganizationId, in.OfficeId, in.AssignedUsers)...)
	if len(errs) > 0 {
		return validationErrorsObject(errs), nil
	}
	c := newCase(in.OrganizationId, in.OfficeId, in.Reference, in.Name, inds)
	c.Entities = ents
	c.AssignedUsers = in.AssignedUsers
	c.Lead, c.Requestor = userFromContact(in.Lead), userFromContact(in.Requestor)
	c.Notes = deref(in.Notes)
	c = e.s.store(c, &in.InitialState)
	return e.s.caseObject(c, e.base), nil
}

// checkDecimal refuses a Decimal input field sent as anything but a JSON
// number (a string, say), as a GraphQL server's decimal scalar does: a
// request error, not a validation result.
func checkDecimal(input any, field string) error {
	obj, _ := input.(map[string]any)
	v, ok := obj[field]
	if !ok || v == nil {
		return nil
	}
	switch v.(type) {
	case float64, int, int64, json.Number:
		return nil
	}
	return &fieldError{msg: "firstamltest: " + field + " is a Decimal: send a JSON number, not " + jsonKind(v), code: "BAD_USER_INPUT"}
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "this value"
}

func derefEnum[T ~string](v *T) T {
	if v == nil {
		return ""
	}
	return *v
}

// checkAssignedUsers applies the documented meaning of assignedUsers (user
// ids from me's users, changelog 2023-09-12): each must be a user of the
// organization or of the case's office who is enabled and can be assigned
// to cases (the last two are the User fields' meaning, inferred as rules).
func (s *Server) checkAssignedUsers(orgID string, officeID *string, ids []string) []ValidationError {
	o := s.org(orgID)
	if o == nil {
		return nil // checkOrganization reports it
	}
	users := append([]User(nil), o.Users...)
	for _, off := range o.Offices {
		if officeID != nil && off.Key == *officeID {
			users = append(users, off.Users...)
		}
	}
	var errs []ValidationError
	for i, id := range ids {
		at := fieldPath("assignedUsers", strconv.Itoa(i))
		j := slices.IndexFunc(users, func(u User) bool { return u.ID == id })
		switch {
		case j < 0:
			errs = append(errs, ValidationError{Message: "The user is not a user of the organization or office.", FieldPath: at})
		case users[j].Disabled:
			errs = append(errs, ValidationError{Message: "The user is disabled.", FieldPath: at})
		case !users[j].CanBeAssignedToCases:
			errs = append(errs, ValidationError{Message: "The user cannot be assigned to cases.", FieldPath: at})
		}
	}
	return errs
}

// checkVerificationType resolves individualVerificationType: one of the
// office's types when the case has an office that lists any, else one of
// the organization's; null is the default (inferred rules).
func (s *Server) checkVerificationType(orgID string, officeID *string, in *firstamlgql.VerificationTypeInput) (VerificationType, []ValidationError) {
	o := s.org(orgID)
	if o == nil {
		return VerificationType{}, nil
	}
	types, def := o.VerificationTypes, o.DefaultVerificationType
	for _, off := range o.Offices {
		if officeID != nil && off.Key == *officeID && len(off.VerificationTypes) > 0 {
			types, def = off.VerificationTypes, off.DefaultVerificationType
		}
	}
	want := def
	if in != nil {
		want = in.VerificationTypeId
	}
	for _, vt := range types {
		if vt.ID == want {
			return vt, nil
		}
	}
	if in == nil {
		return VerificationType{}, nil // no default: none
	}
	return VerificationType{}, []ValidationError{{Message: "The verification type is not available to the organization or office.",
		FieldPath: fieldPath("individualVerificationType", "verificationTypeId")}}
}

// rootEntity checks a case's root entity: a new one, or one the fake holds
// on a case of the same organization; not both (inferred rules).
func (s *Server) rootEntity(orgID string, root *firstamlgql.EntityDetailsInput, existing *firstamlgql.ExistingEntityDetailsInput) ([]Entity, []ValidationError) {
	switch {
	case root != nil && existing != nil:
		return nil, []ValidationError{{Message: "Give rootEntity or existingRootEntity, not both.", FieldPath: fieldPath("existingRootEntity")}}
	case root != nil:
		var errs []ValidationError
		if root.LegalName == "" {
			errs = append(errs, ValidationError{Message: "The entity needs a legal name.", FieldPath: fieldPath("rootEntity", "legalName")})
		}
		if root.EntityType == "" {
			errs = append(errs, ValidationError{Message: "The entity needs an entity type.", FieldPath: fieldPath("rootEntity", "entityType")})
		}
		return []Entity{{LegalName: root.LegalName, EntityType: root.EntityType, RegistrationNumber: deref(root.RegistrationNumber)}}, errs
	case existing != nil:
		for _, c := range s.cases {
			if c.OrganizationID != orgID {
				continue
			}
			for _, ent := range c.Entities {
				if ent.ID == existing.EntityId {
					ent.Documents = nil // documents stay with the case they were given for
					return []Entity{ent}, nil
				}
			}
		}
		return nil, []ValidationError{{Message: "The entity does not exist or is not accessible to this API client.", FieldPath: fieldPath("existingRootEntity", "entityId")}}
	}
	return nil, nil
}

// accessibleCase returns the index of a case the client can see, or a
// validation error on caseId.
func (s *Server) accessibleCase(id string) (int, []ValidationError) {
	for i, c := range s.cases {
		if c.ID == id && s.org(c.OrganizationID) != nil {
			return i, nil
		}
	}
	return -1, []ValidationError{{Message: "The case does not exist or is not accessible to this API client.", FieldPath: fieldPath("caseId")}}
}

// transition moves a case from one of the statuses in from to status to,
// after check (which may refuse it), and answers the case.
func (e *executor) transition(args map[string]any, from []string, to string, check func(c *Case) []ValidationError) (any, error) {
	if err := e.requireScope(scopeCaseManagement); err != nil {
		return nil, err
	}
	id, _ := args["caseId"].(string)
	i, errs := e.s.accessibleCase(id)
	if errs != nil {
		return validationErrorsObject(errs), nil
	}
	c := &e.s.cases[i]
	if !slices.Contains(from, c.Status) {
		return validationErrorsObject([]ValidationError{{Message: "The case is " + c.Status + "; this needs a case in " + joinOr(from) + ".", FieldPath: fieldPath("caseId")}}), nil
	}
	if check != nil {
		if errs := check(c); len(errs) > 0 {
			return validationErrorsObject(errs), nil
		}
	}
	c.Status = to
	return e.s.caseObject(cloneCase(*c), e.base), nil
}

func joinOr(s []string) string {
	switch len(s) {
	case 1:
		return s[0]
	case 2:
		return s[0] + " or " + s[1]
	}
	return s[0] + ", " + joinOr(s[1:])
}

// submitCase: DRAFT to IN_PROGRESS [DOC 2023-09-12]; a case contact with an
// email address or a phone number is required to submit [DOC 2022-02-17,
// and the help centre's draft cases].
func resolveSubmitCase(e *executor, args map[string]any) (any, error) {
	return e.transition(args, []string{statusDraft}, statusInProgress, func(c *Case) []ValidationError {
		for _, ind := range c.Individuals {
			if ind.IsCaseContact && (ind.EmailAddress != "" || ind.PhoneNumber != "") {
				return nil
			}
		}
		return []ValidationError{{Message: "A case contact with an email address or a phone number is required before you can submit this case to First AML.", FieldPath: fieldPath("caseId")}}
	})
}

// completeCase: READY_FOR_REVIEW to COMPLETED [DOC 2023-09-12].
func resolveCompleteCase(e *executor, args map[string]any) (any, error) {
	return e.transition(args, []string{statusReadyForReview}, statusCompleted, nil)
}

// escalateLiteCase: a lite case in DRAFT or IN_PROGRESS is submitted to
// First AML [DOC, audit]; the fake escalates it in place (inferred): it
// stays the same case, no longer lite, IN_PROGRESS.
func resolveEscalateLiteCase(e *executor, args map[string]any) (any, error) {
	return e.transition(args, []string{statusDraft, statusInProgress}, statusInProgress, func(c *Case) []ValidationError {
		if !c.Lite {
			return []ValidationError{{Message: "Only a lite case can be escalated.", FieldPath: fieldPath("caseId")}}
		}
		c.Lite = false
		return nil
	})
}
