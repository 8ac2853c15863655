package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"net/http"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/option"
	"github.com/spf13/pflag"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/oauth2"
)

func init() {
	register(&provider{
		order: 4,
		name:  "firstaml",
		title: "First AML",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.baseURL, "base-url", "", "the GraphQL endpoint itself (default the sandbox, "+firstamlapi.SandboxGraphQLURL+"); production needs --base-url and --token-url")
			fs.StringVar(&o.tokenURL, "token-url", "", "token endpoint (default the sandbox, "+firstamlapi.SandboxTokenURL+"); production needs --base-url and --token-url")
		},
		refused:    map[string]string{"scope": "scopes are set on the API client by First AML, not requested"},
		open:       openFirstAML,
		operations: firstamlOperations,
		startFake: func(addr string) (runningFake, error) {
			s, err := firstamltest.Start(firstamltest.WithAddr(addr))
			if err != nil {
				return nil, err
			}
			return firstamlFake{s}, nil
		},
	})
	statusFuncs = append(statusFuncs, func(err error) (int, bool) {
		var e *firstamlapi.Error
		if errors.As(err, &e) && e.StatusCode != 0 {
			return e.StatusCode, true
		}
		return 0, false
	})
}

type firstamlSession struct {
	client *firstamlapi.Client
}

func openFirstAML(ctx context.Context, o *options, common []option.Option, store auth.Store) (session, error) {
	if err := requireCredentials(o); err != nil {
		return nil, err
	}
	if (o.baseURL == "") != (o.tokenURL == "") {
		return nil, usagef("firstaml: give both --base-url and --token-url (production), or neither (the sandbox)")
	}
	opts := common
	if o.baseURL != "" {
		opts = append(opts, firstamlapi.WithGraphQLURL(o.baseURL), firstamlapi.WithTokenURL(o.tokenURL))
	}
	if store != nil {
		opts = append(opts, option.WithStore(store))
	}
	c, err := firstamlapi.NewClient(o.clientID, o.clientSecret, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &firstamlSession{client: c}, nil
}

func (s *firstamlSession) Token(ctx context.Context) (*oauth2.Token, error) {
	return s.client.Token(ctx)
}

// Call runs an operation of specs/firstaml-operations.graphql through the
// client's GraphQL transport (User-Agent, token, errors as
// *firstamlapi.Error) and returns the value of its root field. Queries are
// retried per the retry policy, mutations never. A result holding
// ValidationErrors comes back together with a *validationError.
func (s *firstamlSession) Call(ctx context.Context, name string, params map[string]string, body []byte) ([]byte, error) {
	if name == rawGraphQLOp {
		if len(params) > 0 {
			return nil, usagef("firstaml graphql: give the variables in --body, not --param")
		}
		return s.rawGraphQL(ctx, body)
	}
	spec, err := loadGQLSpec()
	if err != nil {
		return nil, err
	}
	op, ok := spec.ops[name]
	if !ok {
		return nil, usagef("firstaml has no operation %q", name)
	}
	vars, err := spec.variables(name, op, params, body)
	if err != nil {
		return nil, err
	}
	if op.def.Operation == ast.Query {
		ctx = auth.WithIdempotent(ctx)
	}
	var data json.RawMessage
	err = s.client.GraphQLClient().MakeRequest(ctx,
		&graphql.Request{Query: op.query, Variables: vars, OpName: op.def.Name},
		&graphql.Response{Data: &data})
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("firstaml %s: the result is not a JSON object: %v", name, err)
	}
	out := []byte(data)
	if len(fields) == 1 {
		for _, v := range fields {
			out = v // the root field's value, as the typed client returns it
		}
	}
	return out, checkValidation(name, data)
}

// checkValidation returns a *validationError if data holds a
// ValidationErrors result.
func checkValidation(op string, data []byte) error {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	if errs := validationErrors(v); len(errs) > 0 {
		return &validationError{provider: "firstaml", op: op, errs: errs}
	}
	return nil
}

// rawGraphQL posts a GraphQL request as is through the authenticated
// HTTP client (queries and mutations alike; nothing is retried).
func (s *firstamlSession) rawGraphQL(ctx context.Context, body []byte) ([]byte, error) {
	var req struct {
		Query string `json:"query"`
	}
	if body == nil || json.Unmarshal(body, &req) != nil || req.Query == "" {
		return nil, usagef(`firstaml graphql: --body must be JSON {"query": "...", "variables": {...}}`)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.client.BaseURL(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/graphql-response+json, application/json")
	resp, err := s.client.HTTPClient().Do(r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newAPIError("firstaml", "graphql", resp)
	}
	defer resp.Body.Close()
	var out json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 16<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("firstaml graphql: %v", err)
	}
	var shape struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	json.Unmarshal(out, &shape)
	if len(shape.Errors) > 0 {
		// GraphQL errors in a 200: the answer is printed, and it failed.
		var msgs []string
		for _, e := range shape.Errors {
			msgs = append(msgs, e.Message)
		}
		return out, &apiError{provider: "firstaml", op: "graphql", status: resp.StatusCode, msg: strings.Join(msgs, "; "), requestID: auth.RequestID(resp.Header)}
	}
	return out, checkValidation("graphql", shape.Data)
}

type firstamlFake struct{ s *firstamltest.Server }

func (f firstamlFake) Close()                     { f.s.Close() }
func (f firstamlFake) Server() *fakeserver.Server { return f.s.Server }
func (f firstamlFake) Samples() []fake.Sample     { return f.s.Samples() }
func (f firstamlFake) Describe() []kv {
	return []kv{
		{"graphql URL", f.s.GraphQLURL()},
		{"token URL", f.s.TokenURL()},
		{"client id", f.s.ClientID},
		{"client secret", f.s.ClientSecret},
		{"organization", firstamltest.SampleOrganizationID},
		{"case", firstamltest.SampleCaseID},
	}
}
