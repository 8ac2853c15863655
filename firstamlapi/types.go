package firstamlapi

import (
	"strconv"
	"strings"

	"github.com/complykit/complykit-go/gen/firstamlgql"
)

// The GraphQL types, as genqlient generated them from
// specs/firstaml-operations.graphql, so callers need not import gen/.
// Nullable fields are pointers: nil is null, not "" or false.

// Me.
type (
	// APIClient is what Me returns: the client behind the token.
	APIClient = firstamlgql.APIClient
	// AccessibleOrganization is an organization the client can act for.
	AccessibleOrganization = firstamlgql.AccessibleOrganization
	// Office is an office of an organization; its Key is the officeId of
	// the create inputs.
	Office = firstamlgql.Office
)

// Case results. Switch on a CaseDetailsResult or a CreateCaseResult to
// tell a case from validation errors.
type (
	// CaseDetailsResult is a *CaseDetailsResultCaseInformation or a
	// *CaseDetailsResultValidationErrors.
	CaseDetailsResult = firstamlgql.CaseDetailsResult
	// CaseDetailsResultCaseInformation is a case as CaseDetails reads it:
	// the CaseSummary plus notes, participants, organization, office and
	// entities.
	CaseDetailsResultCaseInformation = firstamlgql.CaseDetailsResultCaseInformation
	// CaseDetailsResultValidationErrors says why a case could not be read
	// (unknown, or not accessible to the client).
	CaseDetailsResultValidationErrors = firstamlgql.CaseDetailsResultValidationErrors

	// CreateCaseResult is a *CreateCaseResultCaseInformation or a
	// *CreateCaseResultValidationErrors.
	CreateCaseResult = firstamlgql.CreateCaseResult
	// CreateCaseResultCaseInformation is the case a mutation created.
	CreateCaseResultCaseInformation = firstamlgql.CreateCaseResultCaseInformation
	// CreateCaseResultValidationErrors lists what to fix before the case
	// can be created.
	CreateCaseResultValidationErrors = firstamlgql.CreateCaseResultValidationErrors

	// ValidationError is one business validation failure: a Message, the
	// server's name for the kind of failure (Typename) and, when it
	// concerns one input field, its FieldPath: field names and list
	// indices, all strings, as First AML documents it, e.g.
	// []string{"individuals", "1", "emailAddress"}. FormatFieldPath
	// renders one for people.
	ValidationError = firstamlgql.ValidationError
	// ValidationErrorList is the list inside a ValidationErrors result.
	ValidationErrorList = firstamlgql.ValidationErrorList

	// CaseSummary is what every case result carries: identity, status,
	// link and individuals.
	CaseSummary = firstamlgql.CaseSummary
	// CaseUrls links to the case in First AML's application.
	CaseUrls = firstamlgql.CaseUrls
	// CaseParticipants are the requestor and the lead of a case.
	CaseParticipants = firstamlgql.CaseParticipants
	// CaseUser is a user of the organization.
	CaseUser = firstamlgql.CaseUser
	// CaseOrganization is the organization a case belongs to.
	CaseOrganization = firstamlgql.CaseOrganization
	// Entity is a non-person party on a case.
	Entity = firstamlgql.Entity
	// EntityUrls links to an entity.
	EntityUrls = firstamlgql.EntityUrls
	// IndividualSummary is a person on a case, with the verification link
	// to send them.
	IndividualSummary = firstamlgql.IndividualSummary
	// Name is a person's name.
	Name = firstamlgql.Name
	// VerificationChecksStatus holds the overall verification result,
	// e.g. "PASS".
	VerificationChecksStatus = firstamlgql.VerificationChecksStatus
	// IndividualUrls links to an individual and to their verification.
	IndividualUrls = firstamlgql.IndividualUrls
	// VerificationUrl is a *VerificationUrlValidUrl or a
	// *VerificationUrlInvalidUrl.
	VerificationUrl = firstamlgql.VerificationUrl
	// VerificationUrlValidUrl is a usable verification link.
	VerificationUrlValidUrl = firstamlgql.VerificationUrlValidUrl
	// VerificationUrlInvalidUrl says why there is no verification link.
	VerificationUrlInvalidUrl = firstamlgql.VerificationUrlInvalidUrl
)

// Inputs of the create mutations. Nil pointer fields are left out of the
// request (officeId must be omitted when the organization has no offices).
type (
	// CreateLiteCaseInput is the input of CreateLiteCase.
	CreateLiteCaseInput = firstamlgql.CreateLiteCaseInput
	// LiteCaseIndividualInput is the single individual of a lite case.
	LiteCaseIndividualInput = firstamlgql.LiteCaseIndividualInput
	// CreateCaseForIndividualsInput is the input of CreateCaseForIndividuals.
	CreateCaseForIndividualsInput = firstamlgql.CreateCaseForIndividualsInput
	// IndividualInput is one individual of CreateCaseForIndividuals.
	IndividualInput = firstamlgql.IndividualInput
	// NameInput is a person's name as input.
	NameInput = firstamlgql.NameInput
	// CaseInitialState is the state a new case starts in.
	CaseInitialState = firstamlgql.CaseInitialState
)

// Initial states of a new case.
const (
	// CaseInitialStateSubmitToFirstAml submits the case to First AML at
	// once; it needs at least one individual who is the case contact.
	CaseInitialStateSubmitToFirstAml = firstamlgql.CaseInitialStateSubmitToFirstAml
	// CaseInitialStateDraft keeps the case as a draft. Inferred from the
	// UI's "Draft" status, not documented: do not rely on it in production.
	CaseInitialStateDraft = firstamlgql.CaseInitialStateDraft
)

// Ptr returns a pointer to v, for the optional (pointer) fields of the
// inputs: Reference: firstamlapi.Ptr("onboarding-1042").
func Ptr[T any](v T) *T { return &v }

// FormatFieldPath renders a ValidationError's FieldPath the way Go and
// JavaScript write such paths, list indices in brackets:
// ["individuals", "1", "emailAddress"] is "individuals[1].emailAddress".
// A nil or empty path is "".
func FormatFieldPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if _, err := strconv.ParseUint(p, 10, 64); err == nil && i > 0 {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
