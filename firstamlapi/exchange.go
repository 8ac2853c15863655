package firstamlapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
)

// acceptGraphQL asks for the GraphQL-over-HTTP media type First AML has
// used since 2025-10-07, and plain JSON from before.
var acceptGraphQL = []string{"application/graphql-response+json, application/json"}

// exchange is the genqlient transport of one operation: it is both the
// graphql.Client the generated function calls and the graphql.Doer that
// client sends through. It sets the headers First AML requires, sends the
// request through an auth.Doer, turns every answer but a usable 200 into an
// *Error, and remembers the status and request id so that errors found
// after decoding (GraphQL errors in a 200) can carry them too.
type exchange struct {
	c    *Client
	doer *auth.Doer
	op   string

	editors   []func(context.Context, *http.Request) error // the call options'
	call      apiclient.Call
	gql       graphql.Client
	status    int
	requestID string
	resp      *http.Response // the last answer, to redact its request's token from errors
}

func (c *Client) newExchange(op string, doer *auth.Doer, opts []option.CallOption) (*exchange, error) {
	call, err := apiclient.ApplyCall("firstamlapi", nil, opts)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	x := &exchange{c: c, doer: doer, op: op, editors: call.Editors, call: call}
	x.gql = graphql.NewClient(c.graphqlURL, x)
	return x, nil
}

// MakeRequest implements graphql.Client.
func (x *exchange) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	return x.gql.MakeRequest(ctx, req, resp)
}

// Do implements graphql.Doer. genqlient builds a new request per call, so
// setting its headers here is safe.
func (x *exchange) Do(req *http.Request) (*http.Response, error) {
	req.Header["User-Agent"] = x.c.userAgent
	req.Header["Accept"] = acceptGraphQL
	for _, edit := range x.editors {
		if err := edit(req.Context(), req); err != nil {
			return nil, &Error{Op: x.op, Err: err}
		}
	}
	resp, err := x.doer.Do(req)
	if err != nil {
		return nil, &Error{Op: x.op, Err: x.c.red.Error(err)}
	}
	x.status, x.requestID, x.resp = resp.StatusCode, cleaner(x.c.red)(auth.RequestID(resp.Header)), resp
	if resp.StatusCode != http.StatusOK {
		return nil, newError(x.op, resp, x.c.red)
	}
	var raw json.RawMessage
	if err := apiclient.DecodeJSON(resp, x.c.maxBody, &raw); err != nil {
		return nil, bodyError(x.op, resp, err, x.c.red)
	}
	var shape struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &shape); err != nil {
		return nil, &Error{Op: x.op, StatusCode: resp.StatusCode, RequestID: x.requestID, Reason: "response is not a GraphQL response (not a JSON object with data or errors)"}
	}
	if len(shape.Errors) == 0 && (len(shape.Data) == 0 || string(shape.Data) == "null") {
		return nil, &Error{Op: x.op, StatusCode: resp.StatusCode, RequestID: x.requestID, Reason: "response has neither data nor errors"}
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	return resp, nil
}

// wrap turns what genqlient returned into an *Error.
func (x *exchange) wrap(err error) error {
	switch e := err.(type) {
	case *Error:
		return e
	case gqlerror.List:
		return &Error{Op: x.op, StatusCode: x.status, RequestID: x.requestID, Errors: fromGQLErrors(e, x.c.red)}
	case *gqlerror.Error:
		return &Error{Op: x.op, StatusCode: x.status, RequestID: x.requestID, Errors: fromGQLErrors(gqlerror.List{e}, x.c.red)}
	}
	if x.status == 0 {
		// Nothing was sent: the request could not be built.
		return &Error{Op: x.op, Err: x.c.red.Error(err)}
	}
	// genqlient could not decode a 200 into the operation's types, e.g. a
	// union member this SDK does not know.
	return &Error{Op: x.op, StatusCode: x.status, RequestID: x.requestID,
		Reason: "response does not match the operation: " + cleaner(x.c.red)(err.Error())}
}

func (x *exchange) noResult(field string) error {
	return &Error{Op: x.op, StatusCode: x.status, RequestID: x.requestID, Reason: "response has no " + field + " result"}
}

func fromGQLErrors(list gqlerror.List, red *auth.Redactor) []GraphQLError {
	clean := cleaner(red)
	out := make([]GraphQLError, 0, len(list))
	for _, e := range list {
		if e == nil {
			continue
		}
		ge := GraphQLError{Message: clean(e.Message), Path: clean(e.Path.String())}
		if code, ok := e.Extensions["code"].(string); ok {
			ge.Code = clean(code)
		}
		out = append(out, ge)
	}
	return out
}
