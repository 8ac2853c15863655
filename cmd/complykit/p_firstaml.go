package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
)

func init() {
	register(&provider{
		name:        "firstaml",
		baseURLHelp: "the GraphQL endpoint itself (default the sandbox, https://public-api-sandbox.firstaml.com/graphql/); production needs --base-url and --token-url",
		open:        openFirstAML,
		startFake: func(addr string) (fake, error) {
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

func openFirstAML(ctx context.Context, o *options) (session, error) {
	if err := requireCredentials(o); err != nil {
		return nil, err
	}
	if (o.baseURL == "") != (o.tokenURL == "") {
		return nil, usagef("firstaml: give both --base-url and --token-url (production), or neither (the sandbox)")
	}
	if len(o.scopes) > 0 {
		return nil, usagef("firstaml: scopes are set on the API client by First AML, not requested")
	}
	opts := []option.Option{option.WithUserAgent("complykit-cli")}
	if o.baseURL != "" {
		opts = append(opts, firstamlapi.WithGraphQLURL(o.baseURL), firstamlapi.WithTokenURL(o.tokenURL))
	}
	if st := o.store(); st != nil {
		opts = append(opts, option.WithStore(st))
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

var firstamlOps = map[string]string{
	"me":                          "the API client, its scopes and organizations",
	"case-details":                "a case: --param caseId=...",
	"create-lite-case":            "create a case for one individual: --body CreateLiteCaseInput JSON",
	"create-case-for-individuals": "create a case: --body CreateCaseForIndividualsInput JSON",
	"graphql":                     `any operation: --body {"query": ..., "variables": {...}}`,
}

func (s *firstamlSession) Operations() []string {
	ops := make([]string, 0, len(firstamlOps))
	for k := range firstamlOps {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	return ops
}

func (s *firstamlSession) Call(ctx context.Context, op string, params map[string]string, body []byte) ([]byte, error) {
	allow := func(names ...string) error {
		for k := range params {
			ok := false
			for _, n := range names {
				ok = ok || k == n
			}
			if !ok {
				return usagef("firstaml %s: unknown parameter %q", op, k)
			}
		}
		return nil
	}
	needBody := func(v any) error {
		if body == nil {
			return usagef("firstaml %s: --body FILE (or -) is required", op)
		}
		if err := json.Unmarshal(body, v); err != nil {
			return usagef("firstaml %s: --body: %v", op, err)
		}
		return nil
	}
	var out any
	var err error
	switch op {
	case "me":
		if err := allow(); err != nil {
			return nil, err
		}
		out, err = s.client.Me(ctx)
	case "case-details":
		if err := allow("caseId"); err != nil {
			return nil, err
		}
		if params["caseId"] == "" {
			return nil, usagef("firstaml case-details: missing --param caseId=...")
		}
		out, err = s.client.CaseDetails(ctx, params["caseId"])
	case "create-lite-case":
		var in firstamlapi.CreateLiteCaseInput
		if err := allow(); err != nil {
			return nil, err
		}
		if err := needBody(&in); err != nil {
			return nil, err
		}
		out, err = s.client.CreateLiteCase(ctx, in)
	case "create-case-for-individuals":
		var in firstamlapi.CreateCaseForIndividualsInput
		if err := allow(); err != nil {
			return nil, err
		}
		if err := needBody(&in); err != nil {
			return nil, err
		}
		out, err = s.client.CreateCaseForIndividuals(ctx, in)
	case "graphql":
		return s.rawGraphQL(ctx, body)
	default:
		return nil, unknownOperation("firstaml", op, s.Operations())
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
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
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.client.BaseURL(), bytesReader(body))
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
	return out, nil
}

type firstamlFake struct{ s *firstamltest.Server }

func (f firstamlFake) Close() { f.s.Close() }
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
