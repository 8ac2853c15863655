package stemsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
)

// CallOption adjusts one call.
type CallOption func(*callConfig)

type callConfig struct {
	company    string
	companySet bool
}

// Company makes one call act for company id instead of the WithCompany
// default: the X-Company-Context of that request. An empty id is an error
// (ErrNoCompany), never a silent fall-back to the default.
func Company(id string) CallOption {
	return func(c *callConfig) { c.company, c.companySet = id, true }
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

func (c *Client) companyFor(op string, opts []CallOption) (string, error) {
	cc := callConfig{company: c.company}
	for _, o := range opts {
		if o != nil {
			o(&cc)
		}
	}
	if cc.company == "" {
		return "", &companyError{op: op}
	}
	if cc.companySet {
		if err := checkCompany(cc.company); err != nil {
			return "", fmt.Errorf("stemsapi: %s: Company: %w", op, err)
		}
	}
	return cc.company, nil
}

// do sends one API request and decodes a 2xx answer into out. Every check
// that can fail without the network runs before a token is fetched.
func (c *Client) do(ctx context.Context, op, method, u string, body, out any, opts []CallOption) error {
	company, err := c.companyFor(op, opts)
	if err != nil {
		return err
	}
	req, err := apiclient.NewRequest(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("stemsapi: %s: %w", op, err)
	}
	req.Header["User-Agent"] = c.userAgent
	req.Header[auth.HeaderCompanyContext] = []string{company}
	resp, err := c.doer.Do(req)
	if err != nil {
		return fmt.Errorf("stemsapi: %s: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newError(op, resp)
	}
	if err := apiclient.DecodeJSON(resp, c.maxBody, out); err != nil {
		return bodyError(op, resp, err)
	}
	return nil
}

// idURL builds base/{id}/suffix, refusing ids that would change the path.
func (c *Client) idURL(op, collection, id, suffix string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", fmt.Errorf("stemsapi: %s: invalid id %q", op, id)
	}
	return c.baseURL + collection + url.PathEscape(id) + suffix, nil
}

// ListHazards returns the company's approved hazards (GET /hazards; since
// v1.3 it returns approved hazard data only, see ListHazardApprovalData).
func (c *Client) ListHazards(ctx context.Context, opts ...CallOption) ([]Hazard, error) {
	var out []Hazard
	if err := c.do(ctx, "list hazards", http.MethodGet, c.hazardsURL, nil, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateHazard submits a new hazard without the approval process (POST
// /hazards) and returns the stored hazard. A POST is not retried after a
// 429 or 5xx unless ctx comes from auth.WithIdempotent.
func (c *Client) CreateHazard(ctx context.Context, h Hazard, opts ...CallOption) (Hazard, error) {
	var out Hazard
	if err := c.do(ctx, "create hazard", http.MethodPost, c.hazardsURL, orEmpty(h), &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateHazard updates a hazard without the approval process (PUT
// /hazards). The path carries no id: h must hold the hazard's id.
func (c *Client) UpdateHazard(ctx context.Context, h Hazard, opts ...CallOption) (Hazard, error) {
	var out Hazard
	if err := c.do(ctx, "update hazard", http.MethodPut, c.hazardsURL, orEmpty(h), &out, opts); err != nil {
		return nil, err
	}
	return out, nil
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
func (c *Client) ListHazardApprovalData(ctx context.Context, opts ...CallOption) ([]HazardApprovalData, error) {
	var out []HazardApprovalData
	if err := c.do(ctx, "list hazard approval data", http.MethodGet, c.hazardsApprovalDataURL, nil, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// GetHazardApprovalData returns one hazard with its approval data (GET
// /hazards/{id}/approvalData; the pre-v1.3 GET /hazards/{id}).
func (c *Client) GetHazardApprovalData(ctx context.Context, id string, opts ...CallOption) (*HazardApprovalData, error) {
	u, err := c.idURL("get hazard approval data", "/hazards/", id, "/approvalData")
	if err != nil {
		return nil, err
	}
	var out HazardApprovalData
	if err := c.do(ctx, "get hazard approval data", http.MethodGet, u, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateHazardForApproval submits a new hazard for approval (POST
// /hazards/approval; the pre-v1.3 POST /hazards). See CreateHazard about
// retries.
func (c *Client) CreateHazardForApproval(ctx context.Context, h *HazardApproval, opts ...CallOption) (*HazardApproval, error) {
	const op = "create hazard for approval"
	if h == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil hazard", op)
	}
	var out HazardApproval
	if err := c.do(ctx, op, http.MethodPost, c.hazardsApprovalURL, h, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateHazardForApproval submits a change to a hazard through the
// approval process (PUT /hazards/approval; the pre-v1.3 PUT /hazards). h
// must hold the hazard's id.
func (c *Client) UpdateHazardForApproval(ctx context.Context, h *HazardApproval, opts ...CallOption) (*HazardApproval, error) {
	const op = "update hazard for approval"
	if h == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil hazard", op)
	}
	var out HazardApproval
	if err := c.do(ctx, op, http.MethodPut, c.hazardsApprovalURL, h, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateEventRequiringApproval submits a new event that requires approval
// (POST /events/requireapproval), with the v1.4 eventDetails fields. See
// CreateHazard about retries.
func (c *Client) CreateEventRequiringApproval(ctx context.Context, ev *EventRecord, opts ...CallOption) (*EventRecord, error) {
	const op = "create event requiring approval"
	if ev == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil event", op)
	}
	var out EventRecord
	if err := c.do(ctx, op, http.MethodPost, c.eventsApprovalURL, ev, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateEventRequiringApproval updates event id (PUT
// /events/{id}/requireapproval).
func (c *Client) UpdateEventRequiringApproval(ctx context.Context, id string, ev *EventRecord, opts ...CallOption) (*EventRecord, error) {
	const op = "update event requiring approval"
	if ev == nil {
		return nil, fmt.Errorf("stemsapi: %s: nil event", op)
	}
	u, err := c.idURL(op, "/events/", id, "/requireapproval")
	if err != nil {
		return nil, err
	}
	var out EventRecord
	if err := c.do(ctx, op, http.MethodPut, u, ev, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListEventForms returns the forms of event id (GET /events/{id}/forms;
// /groups before v1.4).
func (c *Client) ListEventForms(ctx context.Context, id string, opts ...CallOption) ([]EventForm, error) {
	const op = "list event forms"
	u, err := c.idURL(op, "/events/", id, "/forms")
	if err != nil {
		return nil, err
	}
	var out []EventForm
	if err := c.do(ctx, op, http.MethodGet, u, nil, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// GetEventLookup returns the lookup data used to enter events (GET
// /events/lookup), such as the event record forms.
func (c *Client) GetEventLookup(ctx context.Context, opts ...CallOption) (*EventLookup, error) {
	var out EventLookup
	if err := c.do(ctx, "get event lookup", http.MethodGet, c.eventsLookupURL, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
