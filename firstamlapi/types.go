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

// Results of the case workflow mutations (SubmitCase, CompleteCase,
// EscalateLiteCase).
type (
	// CaseResult is a *CaseResultCaseInformation (the case in its new
	// state) or a *CaseResultValidationErrors (why it could not change).
	CaseResult = firstamlgql.CaseResult
	// CaseResultCaseInformation is the case after the change.
	CaseResultCaseInformation = firstamlgql.CaseResultCaseInformation
	// CaseResultValidationErrors says why the case could not change state
	// (wrong status, no reachable case contact, unknown case).
	CaseResultValidationErrors = firstamlgql.CaseResultValidationErrors
)

// Organizations, their users and verification types (Organizations).
type (
	// AccessibleOrganizationDetails is an organization with its users,
	// its verification types and its offices'.
	AccessibleOrganizationDetails = firstamlgql.AccessibleOrganizationDetails
	// OfficeDetails is an office with its users and verification types.
	OfficeDetails = firstamlgql.OfficeDetails
	// UserDetails is a user of an organization or office; its Id goes into
	// the assignedUsers of the create inputs.
	UserDetails = firstamlgql.UserDetails
	// VerificationType is a kind of verification First AML runs; its
	// VerificationTypeId goes into VerificationTypeInput.
	VerificationType = firstamlgql.VerificationType
)

// Risk assessments (RiskAssessment).
type (
	// RiskAssessmentResult is a *RiskAssessmentResultCaseInformation or a
	// *RiskAssessmentResultValidationErrors (unknown case).
	RiskAssessmentResult = firstamlgql.RiskAssessmentResult
	// RiskAssessmentResultCaseInformation carries the case's
	// RiskAssessmentSubmission, nil until one is submitted.
	RiskAssessmentResultCaseInformation = firstamlgql.RiskAssessmentResultCaseInformation
	// RiskAssessmentResultValidationErrors says why the case could not be
	// read.
	RiskAssessmentResultValidationErrors = firstamlgql.RiskAssessmentResultValidationErrors
	// RiskAssessmentSubmission is a submitted risk assessment
	// questionnaire.
	RiskAssessmentSubmission = firstamlgql.RiskAssessmentSubmission
	// RiskAssessmentAnswer is one answer of a questionnaire.
	RiskAssessmentAnswer = firstamlgql.RiskAssessmentAnswer
)

// Documents (CaseDocuments, DownloadDocument).
type (
	// CaseDocumentsResult is a *CaseDocumentsResultCaseInformation or a
	// *CaseDocumentsResultValidationErrors (unknown case).
	CaseDocumentsResult = firstamlgql.CaseDocumentsResult
	// CaseDocumentsResultCaseInformation holds the documents of a case, of
	// its individuals and of its entities.
	CaseDocumentsResultCaseInformation = firstamlgql.CaseDocumentsResultCaseInformation
	// CaseDocumentsResultValidationErrors says why the case could not be
	// read.
	CaseDocumentsResultValidationErrors = firstamlgql.CaseDocumentsResultValidationErrors
	// IndividualDocuments are the documents of one individual.
	IndividualDocuments = firstamlgql.IndividualDocuments
	// EntityDocuments are the documents of one entity.
	EntityDocuments = firstamlgql.EntityDocuments
	// DocumentFiles is a document (an identity document, say) and its
	// files (its front and back images).
	DocumentFiles = firstamlgql.DocumentFiles
	// DocumentFile is one file of a document; pass its ContentsUrl to
	// DownloadDocument.
	DocumentFile = firstamlgql.DocumentFile
)

// Webhook subscriptions.
type (
	// CreateWebhookSubscriptionResult is a
	// *CreateWebhookSubscriptionResultWebhookSubscription or a
	// *CreateWebhookSubscriptionResultValidationErrors.
	CreateWebhookSubscriptionResult = firstamlgql.CreateWebhookSubscriptionResult
	// CreateWebhookSubscriptionResultWebhookSubscription is the new
	// subscription and its VerifierTokenKey, the base64 key to give
	// WebhookHandler. The key is a secret: store it like a password and
	// keep the result out of logs and JSON dumps.
	CreateWebhookSubscriptionResultWebhookSubscription = firstamlgql.CreateWebhookSubscriptionResultWebhookSubscription
	// CreateWebhookSubscriptionResultValidationErrors says why the
	// subscription was refused (a URL that is not https, say).
	CreateWebhookSubscriptionResultValidationErrors = firstamlgql.CreateWebhookSubscriptionResultValidationErrors
	// WebhookSubscriptionResult is a
	// *WebhookSubscriptionResultWebhookSubscription or a
	// *WebhookSubscriptionResultValidationErrors.
	WebhookSubscriptionResult = firstamlgql.WebhookSubscriptionResult
	// WebhookSubscriptionResultWebhookSubscription is a subscription
	// after a target change.
	WebhookSubscriptionResultWebhookSubscription = firstamlgql.WebhookSubscriptionResultWebhookSubscription
	// WebhookSubscriptionResultValidationErrors says why a target change
	// was refused.
	WebhookSubscriptionResultValidationErrors = firstamlgql.WebhookSubscriptionResultValidationErrors
	// DeleteWebhookSubscriptionResult is a
	// *DeleteWebhookSubscriptionResultDeletedWebhookSubscription or a
	// *DeleteWebhookSubscriptionResultValidationErrors.
	DeleteWebhookSubscriptionResult = firstamlgql.DeleteWebhookSubscriptionResult
	// DeleteWebhookSubscriptionResultDeletedWebhookSubscription names the
	// deleted subscription.
	DeleteWebhookSubscriptionResultDeletedWebhookSubscription = firstamlgql.DeleteWebhookSubscriptionResultDeletedWebhookSubscription
	// DeleteWebhookSubscriptionResultValidationErrors says why it could not
	// be deleted (an unknown id, say).
	DeleteWebhookSubscriptionResultValidationErrors = firstamlgql.DeleteWebhookSubscriptionResultValidationErrors
	// WebhookSubscriptionDetails is what every subscription result
	// carries: id, URL, event types and targets.
	WebhookSubscriptionDetails = firstamlgql.WebhookSubscriptionDetails
	// WebhookSubscriptionTarget is an organization, or one of its
	// offices, whose events a subscription delivers.
	WebhookSubscriptionTarget = firstamlgql.WebhookSubscriptionTarget
	// CreateWebhookSubscriptionInput is the input of
	// CreateWebhookSubscription.
	CreateWebhookSubscriptionInput = firstamlgql.CreateWebhookSubscriptionInput
	// WebhookTargetInput is a target of a new subscription.
	WebhookTargetInput = firstamlgql.WebhookTargetInput
	// WebhookSubscriptionTargetInput is the input of
	// AddWebhookSubscriptionTarget and RemoveWebhookSubscriptionTarget.
	WebhookSubscriptionTargetInput = firstamlgql.WebhookSubscriptionTargetInput
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
	// CreateCaseInput is the input of CreateCase, with every field First
	// AML documents.
	CreateCaseInput = firstamlgql.CreateCaseInput
	// CreateCaseForEntitiesInput is the input of CreateCaseForEntities.
	CreateCaseForEntitiesInput = firstamlgql.CreateCaseForEntitiesInput
	// IndividualDetailsInput is one individual of a case to create.
	IndividualDetailsInput = firstamlgql.IndividualDetailsInput
	// IndividualInput is IndividualDetailsInput under its former name,
	// kept so that existing code compiles; prefer First AML's name.
	IndividualInput = firstamlgql.IndividualDetailsInput
	// AddressInput is a postal address as input.
	AddressInput = firstamlgql.AddressInput
	// NameInput is a person's name as input.
	NameInput = firstamlgql.NameInput
	// ContactDetailsInput is the contact details of the person leading or
	// requesting a case.
	ContactDetailsInput = firstamlgql.ContactDetailsInput
	// VerificationTypeInput names a verification type (from Organizations)
	// for CreateCaseInput.IndividualVerificationType.
	VerificationTypeInput = firstamlgql.VerificationTypeInput
	// EntityDetailsInput is a new entity to verify.
	EntityDetailsInput = firstamlgql.EntityDetailsInput
	// ExistingEntityDetailsInput is an entity First AML already holds.
	ExistingEntityDetailsInput = firstamlgql.ExistingEntityDetailsInput
	// InitialCaseState is the state a new case starts in.
	InitialCaseState = firstamlgql.InitialCaseState
	// CaseInitialState is InitialCaseState under its former name, kept so
	// that existing code compiles; prefer First AML's name.
	CaseInitialState = firstamlgql.InitialCaseState
	// RunVerificationChecks says whether CreateCase runs the checks at
	// once.
	RunVerificationChecks = firstamlgql.RunVerificationChecks
	// CddLevel is the level of customer due diligence requested. Its
	// values are not public: the constants are the usual three levels,
	// and any other string converts, e.g. CddLevel("...").
	CddLevel = firstamlgql.CddLevel
	// RiskAssessment is the assessed risk of a case. Its values are not
	// public: the constants are a guess, and any other string converts.
	RiskAssessment = firstamlgql.RiskAssessment
)

// Initial states of a new case.
const (
	// InitialCaseStateSubmitToFirstAml submits the case to First AML at
	// once; it needs at least one individual who is the case contact.
	InitialCaseStateSubmitToFirstAml = firstamlgql.InitialCaseStateSubmitToFirstAml
	// InitialCaseStateDraft keeps the case as a draft. Inferred from the
	// UI's "Draft" status, not documented: do not rely on it in production.
	InitialCaseStateDraft = firstamlgql.InitialCaseStateDraft

	// CaseInitialStateSubmitToFirstAml is InitialCaseStateSubmitToFirstAml
	// under its former name; prefer the new one.
	CaseInitialStateSubmitToFirstAml = firstamlgql.InitialCaseStateSubmitToFirstAml
	// CaseInitialStateDraft is InitialCaseStateDraft under its former
	// name; prefer the new one.
	CaseInitialStateDraft = firstamlgql.InitialCaseStateDraft
)

// Whether CreateCase runs the verification checks (documented values).
const (
	// RunVerificationChecksDoNotRun creates the case without running checks.
	RunVerificationChecksDoNotRun = firstamlgql.RunVerificationChecksDoNotRun
	// RunVerificationChecksRunAll runs every eligible check at creation
	// (checks that need an identity verification form run once the
	// individual completes it).
	RunVerificationChecksRunAll = firstamlgql.RunVerificationChecksRunAll
)

// CDD levels and risk levels. First AML does not publish these values:
// the constants are inferred, and the fake accepts only them.
const (
	// CddLevelSimplified is simplified due diligence (inferred value).
	CddLevelSimplified = firstamlgql.CddLevelSimplified
	// CddLevelStandard is standard due diligence (inferred value).
	CddLevelStandard = firstamlgql.CddLevelStandard
	// CddLevelEnhanced is enhanced due diligence (inferred value).
	CddLevelEnhanced = firstamlgql.CddLevelEnhanced
	// RiskAssessmentLow is a low risk (inferred value).
	RiskAssessmentLow = firstamlgql.RiskAssessmentLow
	// RiskAssessmentMedium is a medium risk (inferred value).
	RiskAssessmentMedium = firstamlgql.RiskAssessmentMedium
	// RiskAssessmentHigh is a high risk (inferred value).
	RiskAssessmentHigh = firstamlgql.RiskAssessmentHigh
)

// The documented case statuses (changelog 2023-09-12), the values of
// CaseSummary.CaseStatus; First AML may send others (its help centre also
// shows Abandoned, Dormant and On Hold), so compare, do not switch
// exhaustively.
const (
	// CaseStatusDraft: the case is not yet submitted to First AML
	// (SubmitCase submits it).
	CaseStatusDraft = "DRAFT"
	// CaseStatusInProgress: First AML is working on the case.
	CaseStatusInProgress = "IN_PROGRESS"
	// CaseStatusReadyForReview: First AML is done; the organization's
	// compliance officer reviews it (CompleteCase approves it).
	CaseStatusReadyForReview = "READY_FOR_REVIEW"
	// CaseStatusCompleted: the case was reviewed and approved.
	CaseStatusCompleted = "COMPLETED"
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
