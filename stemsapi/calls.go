package stemsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/stems"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"go.opentelemetry.io/otel/attribute"
)

// callConfig is what this package's call options set.
type callConfig struct {
	company    string
	companySet bool
}

// Company makes one call act for company id instead of the WithCompany
// default: the X-Company-Context of that request. An empty id is an error
// (ErrNoCompany), never a silent fall-back to the default.
func Company(id string) option.CallOption {
	return apiclient.ForCall("Company", func(c *callConfig) error {
		c.company, c.companySet = id, true
		return nil
	})
}

// ErrNoCompany is reported (use errors.Is) by a call that has no company:
// no WithCompany, and no Company option or an empty one. Such a call fails
// before anything is sent, since Comply One requires X-Company-Context on
// every request. errors.Is(err, auth.ErrNoCompany) holds too.
var ErrNoCompany = errors.New("stemsapi: no company: set WithCompany or pass Company(id)")

type companyError struct{ op string }

func (e *companyError) Error() string {
	return "stemsapi: " + e.op + ": no company: X-Company-Context is required on every request; set WithCompany or pass Company(id)"
}

func (e *companyError) Is(target error) bool {
	return target == ErrNoCompany || target == auth.ErrNoCompany
}

func checkCompany(id string) error {
	switch {
	case id == "":
		return errors.New("empty company id")
	case len(id) > 256:
		return errors.New("company id longer than 256 bytes")
	case strings.TrimSpace(id) != id:
		return fmt.Errorf("company id %q has surrounding spaces", id)
	case strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("company id %q has a control character", id)
	}
	return nil
}

// editors returns the request editors of one call: its company's
// X-Company-Context first, then the call options' own. Every check that
// can fail without the network runs here, before a token is fetched. The
// common call (no options, the WithCompany company) costs no allocation.
func (c *Client) editors(op string, opts []option.CallOption) ([]stems.RequestEditorFn, apiclient.Call, string, error) {
	if len(opts) == 0 {
		if c.defaultEditors == nil {
			return nil, apiclient.Call{}, "", &companyError{op: op}
		}
		return c.defaultEditors, apiclient.Call{}, c.company, nil
	}
	var cc callConfig
	call, err := apiclient.ApplyCall("stemsapi", &cc, opts)
	if err != nil {
		return nil, call, "", fmt.Errorf("stemsapi: %s: %w", op, err)
	}
	company := c.company
	if cc.companySet {
		if cc.company == "" {
			return nil, call, "", &companyError{op: op}
		}
		if err := checkCompany(cc.company); err != nil {
			return nil, call, "", fmt.Errorf("stemsapi: %s: Company: %w", op, err)
		}
		company = cc.company
	}
	if company == "" {
		return nil, call, "", &companyError{op: op}
	}
	eds := make([]stems.RequestEditorFn, 0, 1+len(call.Editors))
	eds = append(eds, auth.CompanyContext(company))
	for _, e := range call.Editors {
		eds = append(eds, e)
	}
	return eds, call, company, nil
}

// attrCompany is the company a call acts for, on its span: a company id is
// an identifier the user chose to send, not a secret.
const attrCompany = attribute.Key("complykit.stems.company")

// sender is a generated operation with its arguments bound.
type sender func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error)

// call sends one operation through the generated client and decodes a 2xx
// answer into a T.
func call[T any](ctx context.Context, c *Client, op string, opts []option.CallOption, send sender) (T, error) {
	return exchange(ctx, c, op, opts, send, func(resp *http.Response) (out T, err error) {
		err = apiclient.DecodeJSON(resp, c.maxBody, &out)
		return out, err
	})
}

// list is call for an operation answering a JSON array: a long one is
// decoded element by element from the network (apiclient.DecodeArray).
func list[E any](ctx context.Context, c *Client, op string, opts []option.CallOption, send sender) ([]E, error) {
	return exchange(ctx, c, op, opts, send, func(resp *http.Response) ([]E, error) {
		return apiclient.DecodeArray[E](resp, c.maxBody)
	})
}

// exchange sends one operation with the client's editors and the call's
// options, inside the call's span, and decodes a 2xx answer with decode.
func exchange[T any](ctx context.Context, c *Client, op string, opts []option.CallOption, send sender, decode func(*http.Response) (T, error)) (out T, err error) {
	eds, callOpts, company, err := c.editors(op, opts)
	if err != nil {
		return out, err
	}
	ctx, span := apiclient.StartCall(ctx, c.tel, op, &callOpts)
	if span.Recording() {
		span.SetAttributes(attrCompany.String(company))
	}
	var resp *http.Response
	defer func() { apiclient.EndCall(span, &callOpts, resp, err, c.red) }()
	resp, err = send(ctx, eds...)
	if err != nil {
		return out, fmt.Errorf("stemsapi: %s: %w", op, c.red.Error(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, newError(op, resp, c.red)
	}
	if out, err = decode(resp); err != nil {
		return out, bodyError(op, resp, err, c.red)
	}
	return out, nil
}

// checkID refuses a path id that is empty or would change the path.
func checkID(op, id string) error {
	if id == "" || id == "." || id == ".." {
		return fmt.Errorf("stemsapi: %s: invalid id %q", op, id)
	}
	return nil
}

// ListHazards returns the company's approved hazards (GET /hazards; since
// v1.3 it returns approved hazard data only, see ListHazardApprovalData).
func (c *Client) ListHazards(ctx context.Context, opts ...option.CallOption) ([]Hazard, error) {
	return list[Hazard](ctx, c, "list hazards", opts, c.listHazards)
}

// CreateHazard submits a new hazard without the approval process (POST
// /hazards) and returns the stored hazard. A POST is not retried after a
// 429 or 5xx unless ctx comes from auth.WithIdempotent.
func (c *Client) CreateHazard(ctx context.Context, h Hazard, opts ...option.CallOption) (Hazard, error) {
	return call[Hazard](ctx, c, "create hazard", opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.CreateHazard(ctx, orEmpty(h), eds...)
	})
}

// UpdateHazard updates a hazard without the approval process (PUT
// /hazards). The path carries no id: h must hold the hazard's id.
func (c *Client) UpdateHazard(ctx context.Context, h Hazard, opts ...option.CallOption) (Hazard, error) {
	return call[Hazard](ctx, c, "update hazard", opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.UpdateHazard(ctx, orEmpty(h), eds...)
	})
}

func orEmpty(h Hazard) Hazard {
	if h == nil {
		return Hazard{}
	}
	return h
}

// ListHazardApprovalData returns the company's hazards with their approval
// data (GET /hazards/approvaldata; the pre-v1.3 GET /hazards): actual
// actions in Actions, suggested ones in SuggestedActions.
func (c *Client) ListHazardApprovalData(ctx context.Context, opts ...option.CallOption) ([]HazardApprovalData, error) {
	return list[HazardApprovalData](ctx, c, "list hazard approval data", opts, c.listHazardApprovalData)
}

// GetHazardApprovalData returns one hazard with its approval data (GET
// /hazards/{id}/approvalData; the pre-v1.3 GET /hazards/{id}).
func (c *Client) GetHazardApprovalData(ctx context.Context, id string, opts ...option.CallOption) (*HazardApprovalData, error) {
	const op = "get hazard approval data"
	if err := checkID(op, id); err != nil {
		return nil, err
	}
	v, err := call[HazardApprovalData](ctx, c, op, opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.GetHazardApprovalData(ctx, id, eds...)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateHazardForApproval submits a new hazard for approval (POST
// /hazards/approval; the pre-v1.3 POST /hazards). See CreateHazard about
// retries.
func (c *Client) CreateHazardForApproval(ctx context.Context, h *HazardApproval, opts ...option.CallOption) (*HazardApproval, error) {
	const op = "create hazard for approval"
	if h == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil hazard", op)
	}
	v, err := call[HazardApproval](ctx, c, op, opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.CreateHazardForApproval(ctx, *h, eds...)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// UpdateHazardForApproval submits a change to a hazard through the
// approval process (PUT /hazards/approval; the pre-v1.3 PUT /hazards). h
// must hold the hazard's id.
func (c *Client) UpdateHazardForApproval(ctx context.Context, h *HazardApproval, opts ...option.CallOption) (*HazardApproval, error) {
	const op = "update hazard for approval"
	if h == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil hazard", op)
	}
	v, err := call[HazardApproval](ctx, c, op, opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.UpdateHazardForApproval(ctx, *h, eds...)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateEventRequiringApproval submits a new event that requires approval
// (POST /events/requireapproval), with the v1.4 eventDetails fields. See
// CreateHazard about retries.
func (c *Client) CreateEventRequiringApproval(ctx context.Context, ev *EventRecord, opts ...option.CallOption) (*EventRecord, error) {
	const op = "create event requiring approval"
	if ev == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil event", op)
	}
	v, err := call[EventRecord](ctx, c, op, opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.CreateEventRequiringApproval(ctx, *ev, eds...)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// UpdateEventRequiringApproval updates event id (PUT
// /events/{id}/requireapproval).
func (c *Client) UpdateEventRequiringApproval(ctx context.Context, id string, ev *EventRecord, opts ...option.CallOption) (*EventRecord, error) {
	const op = "update event requiring approval"
	if ev == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil event", op)
	}
	if err := checkID(op, id); err != nil {
		return nil, err
	}
	v, err := call[EventRecord](ctx, c, op, opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.UpdateEventRequiringApproval(ctx, id, *ev, eds...)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// ListEventForms returns the forms of event id (GET /events/{id}/forms;
// /groups before v1.4).
func (c *Client) ListEventForms(ctx context.Context, id string, opts ...option.CallOption) ([]EventForm, error) {
	const op = "list event forms"
	if err := checkID(op, id); err != nil {
		return nil, err
	}
	return list[EventForm](ctx, c, op, opts, func(ctx context.Context, eds ...stems.RequestEditorFn) (*http.Response, error) {
		return c.api.ListEventForms(ctx, id, eds...)
	})
}

// GetEventLookup returns the lookup data used to enter events (GET
// /events/lookup), such as the event record forms.
func (c *Client) GetEventLookup(ctx context.Context, opts ...option.CallOption) (*EventLookup, error) {
	v, err := call[EventLookup](ctx, c, "get event lookup", opts, c.getEventLookup)
	if err != nil {
		return nil, err
	}
	return &v, nil
}
