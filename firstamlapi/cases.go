package firstamlapi

import (
	"context"
	"errors"

	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/Khan/genqlient/graphql"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/firstamlgql"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
)

// mutate runs one generated mutation through the Doer that never retries
// (a 401 is still replayed once, since the server refused it). field names
// the mutation's result for the error when First AML answers null.
func mutate[R any](c *Client, ctx context.Context, op, field string, opts []option.CallOption, call func(context.Context, graphql.Client) (R, error)) (R, error) {
	return run(c, ctx, op, c.mutDoer, false, opts, func(ctx context.Context, gc graphql.Client) (R, error) {
		res, err := call(ctx, gc)
		if err == nil && any(res) == nil {
			return res, noResultError{field}
		}
		return res, err
	})
}

// query runs one generated query, retried per the retry policy.
func query[R any](c *Client, ctx context.Context, op string, opts []option.CallOption, call func(context.Context, graphql.Client) (R, error)) (R, error) {
	return run(c, ctx, op, c.doer, true, opts, call)
}

// noResultError is a call's way to say that First AML answered null.
type noResultError struct{ field string }

func (e noResultError) Error() string { return "no " + e.field }

// run sends one GraphQL operation through an exchange, with its span
// (named for the operation) and its response's metadata.
func run[R any](c *Client, ctx context.Context, op string, doer *auth.Doer, idempotent bool, opts []option.CallOption, call func(context.Context, graphql.Client) (R, error)) (_ R, err error) {
	var zero R
	x, err := c.newExchange(op, doer, opts)
	if err != nil {
		return zero, err
	}
	ctx, span := apiclient.StartCall(ctx, c.tel, op, &x.call)
	if span.Recording() {
		kind := "mutation"
		if idempotent {
			kind = "query"
		}
		span.SetAttributes(semconv.GraphQLOperationName(op), semconv.GraphQLOperationTypeKey.String(kind))
	}
	defer func() { apiclient.EndCall(span, &x.call, x.resp, err, c.red) }()
	if idempotent {
		ctx = auth.WithIdempotent(ctx)
	}
	res, err := call(ctx, x)
	var nr noResultError
	switch {
	case errors.As(err, &nr):
		return zero, x.noResult(nr.field)
	case err != nil:
		return zero, x.wrap(err)
	}
	return res, nil
}

// CreateCase creates a case with every option First AML documents for
// createCase: the individuals, a new or existing root entity, the
// verification type (from Organizations), whether to run the checks at
// once (RunVerificationChecks, required), the initial state (required),
// assigned users, lead and requestor, and the AML profile (CddLevel,
// RiskAssessment, TransactionValue as a json.Number such as "450000.00",
// CapturedActivity, Nature, Purpose). Switch on the result as for
// CreateLiteCase; like every mutation it is sent once, never retried. A
// nil input.Individuals is sent as an empty list (the field is non-null).
func (c *Client) CreateCase(ctx context.Context, input CreateCaseInput, opts ...option.CallOption) (CreateCaseResult, error) {
	if input.Individuals == nil {
		input.Individuals = []IndividualDetailsInput{}
	}
	return mutate(c, ctx, "CreateCase", "createCase", opts, func(ctx context.Context, gc graphql.Client) (CreateCaseResult, error) {
		resp, err := firstamlgql.CreateCase(ctx, gc, input)
		if err != nil {
			return nil, err
		}
		return resp.CreateCase, nil
	})
}

// CreateCaseForEntities creates a case for an entity (give exactly one of
// RootEntity and ExistingRootEntity) and the individuals acting for it.
// First AML documents the mutation but not its input, so the input's
// fields are inferred from CreateCaseInput's (see specs/firstaml.graphql);
// check them against the sandbox. The result is a CreateCaseResult, and
// the mutation is never retried.
func (c *Client) CreateCaseForEntities(ctx context.Context, input CreateCaseForEntitiesInput, opts ...option.CallOption) (CreateCaseResult, error) {
	return mutate(c, ctx, "CreateCaseForEntities", "createCaseForEntities", opts, func(ctx context.Context, gc graphql.Client) (CreateCaseResult, error) {
		resp, err := firstamlgql.CreateCaseForEntities(ctx, gc, input)
		if err != nil {
			return nil, err
		}
		return resp.CreateCaseForEntities, nil
	})
}

// EscalateLiteCase escalates a lite case in DRAFT or IN_PROGRESS to First
// AML for investigation (typically after a "Consider" or "Fail" result).
// Switch on the result:
//
//	switch r := res.(type) {
//	case *firstamlapi.CaseResultCaseInformation:  // escalated: r.CaseId, r.CaseStatus
//	case *firstamlapi.CaseResultValidationErrors: // not a lite case, or not in DRAFT or IN_PROGRESS
//	}
//
// Read the case id from the result: First AML's UI creates a new standard
// case when it escalates, so the id may change. Never retried.
func (c *Client) EscalateLiteCase(ctx context.Context, caseID string, opts ...option.CallOption) (CaseResult, error) {
	return mutate(c, ctx, "EscalateLiteCase", "escalateLiteCase", opts, func(ctx context.Context, gc graphql.Client) (CaseResult, error) {
		resp, err := firstamlgql.EscalateLiteCase(ctx, gc, caseID)
		if err != nil {
			return nil, err
		}
		return resp.EscalateLiteCase, nil
	})
}

// SubmitCase submits a DRAFT case to First AML: it becomes IN_PROGRESS.
// The result is a CaseResult, as for EscalateLiteCase; a case that is not
// a draft, or has no case contact with an email address or phone number,
// is refused with validation errors. Never retried.
func (c *Client) SubmitCase(ctx context.Context, caseID string, opts ...option.CallOption) (CaseResult, error) {
	return mutate(c, ctx, "SubmitCase", "submitCase", opts, func(ctx context.Context, gc graphql.Client) (CaseResult, error) {
		resp, err := firstamlgql.SubmitCase(ctx, gc, caseID)
		if err != nil {
			return nil, err
		}
		return resp.SubmitCase, nil
	})
}

// CompleteCase approves a case First AML has finished: READY_FOR_REVIEW
// becomes COMPLETED. The result is a CaseResult, as for EscalateLiteCase;
// a case in any other status is refused with validation errors. Never
// retried.
func (c *Client) CompleteCase(ctx context.Context, caseID string, opts ...option.CallOption) (CaseResult, error) {
	return mutate(c, ctx, "CompleteCase", "completeCase", opts, func(ctx context.Context, gc graphql.Client) (CaseResult, error) {
		resp, err := firstamlgql.CompleteCase(ctx, gc, caseID)
		if err != nil {
			return nil, err
		}
		return resp.CompleteCase, nil
	})
}

// Organizations returns the organizations the client can act for, each
// with its users (their Id values go into AssignedUsers), its verification
// types and default (for CreateCaseInput.IndividualVerificationType), and
// its offices with theirs. Me returns the same organizations without these
// details. Queries are retried per the retry policy.
func (c *Client) Organizations(ctx context.Context, opts ...option.CallOption) ([]AccessibleOrganizationDetails, error) {
	return query(c, ctx, "OrganizationDetails", opts, func(ctx context.Context, gc graphql.Client) ([]AccessibleOrganizationDetails, error) {
		resp, err := firstamlgql.OrganizationDetails(ctx, gc)
		if err != nil {
			return nil, err
		}
		return resp.Me.AccessibleOrganizations, nil
	})
}

// RiskAssessment returns the risk assessment questionnaire submitted for
// a case. Switch on the result:
//
//	switch r := res.(type) {
//	case *firstamlapi.RiskAssessmentResultCaseInformation:  // r.RiskAssessmentSubmission, nil if none yet
//	case *firstamlapi.RiskAssessmentResultValidationErrors: // unknown or not accessible
//	}
//
// The result is nil, with a nil error, only if First AML answers null.
func (c *Client) RiskAssessment(ctx context.Context, caseID string, opts ...option.CallOption) (RiskAssessmentResult, error) {
	return query(c, ctx, "CaseRiskAssessment", opts, func(ctx context.Context, gc graphql.Client) (RiskAssessmentResult, error) {
		resp, err := firstamlgql.CaseRiskAssessment(ctx, gc, caseID)
		if err != nil {
			return nil, err
		}
		return resp.CaseDetails, nil
	})
}

// CaseDocuments returns the documents of a case, of its individuals and
// of its entities, each with its files; pass a file's ContentsUrl to
// DownloadDocument. Switch on the result as for CaseDetails:
// *CaseDocumentsResultCaseInformation or
// *CaseDocumentsResultValidationErrors.
func (c *Client) CaseDocuments(ctx context.Context, caseID string, opts ...option.CallOption) (CaseDocumentsResult, error) {
	return query(c, ctx, "CaseDocuments", opts, func(ctx context.Context, gc graphql.Client) (CaseDocumentsResult, error) {
		resp, err := firstamlgql.CaseDocuments(ctx, gc, caseID)
		if err != nil {
			return nil, err
		}
		return resp.CaseDetails, nil
	})
}
