package specs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/complykit/complykit-go/gen/firstaml"
	"github.com/complykit/complykit-go/gen/firstamlgql"
	"github.com/complykit/complykit-go/specs"
)

const firstamlSpec = "firstaml.yaml"

// firstamlHeaders are what every SDK request to /graphql/ carries.
var firstamlHeaders = map[string]string{
	"Content-Type":  "application/json",
	"Authorization": "Bearer eyJhbGciOiJS....OkFx38SFQ",
	"User-Agent":    "complykit-go/0.1.0 (specs test)",
}

// firstamlSeed returns a verbatim excerpt of seed 004 (First AML's "auth
// tokens" page) from testdata/firstaml.
func firstamlSeed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/firstaml/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstamlRepairSeedAnswer fixes exactly the two defects that make the
// seed's example `me` answer invalid JSON, and nothing else:
//  1. the office objects' `name:` keys are unquoted;
//  2. the offices array has a trailing comma before `]`.
func firstamlRepairSeedAnswer(s string) string {
	s = regexp.MustCompile(`([{,]\s*)name:`).ReplaceAllString(s, `$1"name":`)
	return regexp.MustCompile(`,(\s*[\]}])`).ReplaceAllString(s, `$1`)
}

func firstamlSchema(t *testing.T) *ast.Schema {
	t.Helper()
	sdl, err := specs.FS.ReadFile("firstaml.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "firstaml.graphql", Input: string(sdl)})
	if err != nil {
		t.Fatalf("firstaml.graphql: %v", err)
	}
	return schema
}

func firstamlOperations(t *testing.T, schema *ast.Schema) *ast.QueryDocument {
	t.Helper()
	ops, err := specs.FS.ReadFile("firstaml-operations.graphql")
	if err != nil {
		t.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(schema, string(ops))
	if len(errs) > 0 {
		t.Fatalf("firstaml-operations.graphql: %v", errs)
	}
	return doc
}

func TestFirstAMLSpecLoads(t *testing.T) {
	doc, err := specs.Load(firstamlSpec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", where)
			}
			got = append(got, op.OperationID)
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s: summary and description are required", where)
			}
			src, _ := op.Extensions["x-source"].(string)
			if !slices.Contains([]string{"seed", "docs", "code", "inferred"}, src) {
				t.Errorf("%s: x-source = %q; want seed, docs, code or inferred", where, src)
			}
			if ref, _ := op.Extensions["x-source-ref"].(string); ref == "" {
				t.Errorf("%s: no x-source-ref", where)
			}
		}
	}
	slices.Sort(got)
	if want := []string{"downloadDocument", "graphql", "requestToken"}; !slices.Equal(got, want) {
		t.Errorf("operationIds = %q; want %q", got, want)
	}
	if decisions, _ := doc.Info.Extensions["x-decisions"].([]any); len(decisions) == 0 {
		t.Error("info.x-decisions is empty")
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://public-api-sandbox.firstaml.com" {
		t.Errorf("servers = %v; want only the sandbox", doc.Servers)
	}
	if doc.Paths.Find("/graphql/") == nil {
		t.Error("no /graphql/ path (the docs use the trailing slash)")
	}
}

func TestFirstAMLToken(t *testing.T) {
	seedReq := firstamlSeed(t, "seed-token-request.json")
	seedResp := firstamlSeed(t, "seed-token-response.json")
	jsonCT := map[string]string{"Content-Type": "application/json"}

	var fields map[string]string
	if err := json.Unmarshal([]byte(seedReq), &fields); err != nil {
		t.Fatalf("seed token request: %v", err)
	}
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	without := func(key string) string {
		m := map[string]string{}
		for k, v := range fields {
			if k != key {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	with := func(key, value string) string {
		m := map[string]string{}
		for k, v := range fields {
			m[k] = v
		}
		m[key] = value
		b, _ := json.Marshal(m)
		return string(b)
	}

	valid := []example{
		{
			name: "seed request and response", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 200, respBody: seedResp,
		},
		{
			name: "response with scope (Auth0, inferred)", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 200,
			respBody: `{"access_token":"eyJ.x.y","expires_in":86400,"token_type":"Bearer","scope":"case-management read-only"}`,
		},
		{
			name: "400 invalid_request", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 400,
			respBody: `{"error":"invalid_request","error_description":"Missing required parameter: audience"}`,
		},
		{
			name: "401 access_denied", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 401,
			respBody: `{"error":"access_denied","error_description":"Unauthorized"}`,
		},
		{
			name: "403 access_denied", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 403,
			respBody: `{"error":"access_denied","error_description":"Service not found: https://api.firstaml.com/"}`,
		},
		{
			name: "429 with Retry-After", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 429, respHeader: map[string]string{"Retry-After": "2"},
			respBody: `{"error":"too_many_requests","error_description":"Global limit has been reached"}`,
		},
		{
			name: "503", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 503, respBody: `{"error":"temporarily_unavailable"}`,
		},
	}
	for _, e := range valid {
		t.Run(e.name, func(t *testing.T) {
			if err := e.check(t, firstamlSpec); err != nil {
				t.Errorf("got %v; want valid", err)
			}
		})
	}

	invalid := []example{
		{
			name: "the seed's fields as a form body", method: "POST", target: "/oauth/token",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: form.Encode(),
		},
		{name: "missing audience", method: "POST", target: "/oauth/token", header: jsonCT, body: without("audience")},
		{name: "wrong audience", method: "POST", target: "/oauth/token", header: jsonCT, body: with("audience", "https://api.firstaml.com/")},
		{name: "other audience", method: "POST", target: "/oauth/token", header: jsonCT, body: with("audience", "https://public-api-sandbox.firstaml.com")},
		{name: "password grant", method: "POST", target: "/oauth/token", header: jsonCT, body: with("grant_type", "password")},
		{name: "missing client_secret", method: "POST", target: "/oauth/token", header: jsonCT, body: without("client_secret")},
		{
			name: "response without expires_in", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 200, respBody: `{"access_token":"a","token_type":"Bearer"}`,
		},
		{
			name: "429 without Retry-After", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 429, respBody: `{"error":"too_many_requests"}`,
		},
		{
			name: "error body without error", method: "POST", target: "/oauth/token",
			header: jsonCT, body: seedReq, status: 403, respBody: `{"message":"Forbidden"}`,
		},
	}
	for _, e := range invalid {
		t.Run(e.name, func(t *testing.T) {
			err := e.check(t, firstamlSpec)
			if err == nil {
				t.Fatal("got valid; want a contract violation")
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestFirstAMLGraphQLTransport(t *testing.T) {
	query := firstamlSeed(t, "seed-me-query.graphql")
	answer := firstamlRepairSeedAnswer(firstamlSeed(t, "seed-me-response.txt"))
	body, _ := json.Marshal(map[string]any{"query": query})
	bodyNamed, _ := json.Marshal(map[string]any{"query": firstamlgql.Me_Operation, "operationName": "Me", "variables": nil})
	gqlCT := map[string]string{"Content-Type": "application/graphql-response+json"}
	const parseError = `{"errors":[{"message":"Cannot query field \"secret\" on type \"Me\".","locations":[{"line":1,"column":14}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`

	valid := []example{
		{
			name: "seed me query, seed answer (GraphQL-over-HTTP)", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 200, respHeader: gqlCT, respBody: answer,
		},
		{
			name: "seed answer as application/json (before 2025-10-07)", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 200, respBody: answer,
		},
		{
			name: "genqlient-style body", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(bodyNamed), status: 200, respHeader: gqlCT,
			respBody: `{"data":{"me":null},"errors":[{"message":"boom","path":["me",0,"x"]}]}`,
		},
		{
			name: "400 invalid query", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 400, respHeader: gqlCT, respBody: parseError,
		},
		{
			name: "401", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 401,
			respBody: `{"errors":[{"message":"Unauthorized"}]}`,
		},
		{
			name: "429", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 429, respHeader: map[string]string{"Retry-After": "10"},
			respBody: `{"errors":[{"message":"Too many requests"}]}`,
		},
		{
			name: "503", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 503,
			respBody: `{"errors":[{"message":"Service unavailable"}]}`,
		},
	}
	for _, e := range valid {
		t.Run(e.name, func(t *testing.T) {
			if err := e.check(t, firstamlSpec); err != nil {
				t.Errorf("got %v; want valid", err)
			}
		})
	}

	noUA := map[string]string{"Content-Type": "application/json", "Authorization": firstamlHeaders["Authorization"]}
	invalid := []example{
		{name: "no User-Agent", method: "POST", target: "/graphql/", header: noUA, body: string(body)},
		{name: "no query", method: "POST", target: "/graphql/", header: firstamlHeaders, body: `{"variables":{}}`},
		{
			name: "GraphQL document as the body", method: "POST", target: "/graphql/",
			header: map[string]string{"Content-Type": "application/graphql", "User-Agent": "x"}, body: query,
		},
		{
			name: "429 without Retry-After", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 429, respBody: `{"errors":[{"message":"slow down"}]}`,
		},
		{
			name: "errors without message", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 400, respHeader: gqlCT, respBody: `{"errors":[{"code":"x"}]}`,
		},
		{
			name: "undeclared content type", method: "POST", target: "/graphql/",
			header: firstamlHeaders, body: string(body), status: 200,
			respHeader: map[string]string{"Content-Type": "text/plain"}, respBody: answer,
		},
	}
	for _, e := range invalid {
		t.Run(e.name, func(t *testing.T) {
			err := e.check(t, firstamlSpec)
			if err == nil {
				t.Fatal("got valid; want a contract violation")
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestFirstAMLSchema(t *testing.T) {
	schema := firstamlSchema(t)
	for _, tc := range []struct{ typ, field, want string }{
		{"Query", "me", "Me!"},
		{"Query", "caseDetails", "CaseDetailsResult"},
		{"Mutation", "createLiteCase", "CreateCaseResult!"},
		{"Mutation", "createCaseForIndividuals", "CreateCaseResult!"},
		{"Mutation", "createCase", "CreateCaseResult!"},
		{"Mutation", "createCaseForEntities", "CreateCaseResult!"},
		{"Mutation", "escalateLiteCase", "CaseResult!"},
		{"Mutation", "submitCase", "CaseResult!"},
		{"Mutation", "completeCase", "CaseResult!"},
		{"Mutation", "createWebhookSubscription", "WebhookSubscriptionResult!"},
		{"Mutation", "deleteWebhookSubscription", "DeleteWebhookSubscriptionResult!"},
		{"Mutation", "addWebhookSubscriptionTarget", "WebhookSubscriptionResult!"},
		{"Mutation", "removeWebhookSubscriptionTarget", "WebhookSubscriptionResult!"},
		{"ValidationErrors", "errors", "[ValidationError!]!"},
		{"ValidationError", "message", "String!"},
		{"ValidationError", "fieldPath", "[String!]"},
		// https://docs.firstaml.com/types/create-case-input/, verbatim.
		{"CreateCaseInput", "assignedUsers", "[String!]"},
		{"CreateCaseInput", "capturedActivity", "String"},
		{"CreateCaseInput", "cddLevel", "CddLevel"},
		{"CreateCaseInput", "existingRootEntity", "ExistingEntityDetailsInput"},
		{"CreateCaseInput", "individuals", "[IndividualDetailsInput!]!"},
		{"CreateCaseInput", "individualVerificationType", "VerificationTypeInput"},
		{"CreateCaseInput", "initialState", "InitialCaseState!"},
		{"CreateCaseInput", "lead", "ContactDetailsInput"},
		{"CreateCaseInput", "name", "String"},
		{"CreateCaseInput", "nature", "String"},
		{"CreateCaseInput", "notes", "String"},
		{"CreateCaseInput", "officeId", "String"},
		{"CreateCaseInput", "organizationId", "String!"},
		{"CreateCaseInput", "purpose", "String"},
		{"CreateCaseInput", "reference", "String"},
		{"CreateCaseInput", "requestor", "ContactDetailsInput"},
		{"CreateCaseInput", "riskAssessment", "RiskAssessment"},
		{"CreateCaseInput", "rootEntity", "EntityDetailsInput"},
		{"CreateCaseInput", "runVerificationChecks", "RunVerificationChecks!"},
		{"CreateCaseInput", "transactionValue", "Decimal"},
		{"VerificationTypeInput", "verificationTypeId", "String!"},
		{"CreateCaseForIndividualsInput", "lead", "ContactDetailsInput"},
		{"CreateCaseForIndividualsInput", "requestor", "ContactDetailsInput"},
		{"CreateCaseForIndividualsInput", "assignedUsers", "[String!]"},
		{"CreateCaseForIndividualsInput", "initialState", "InitialCaseState"},
		{"CreateLiteCaseInput", "initialState", "InitialCaseState"},
		// changelog 2023-09-12 and the audit.
		{"Organization", "users", "[User!]!"},
		{"Office", "users", "[User!]!"},
		{"Organization", "individualVerificationTypes", "[VerificationType!]!"},
		{"Office", "defaultIndividualVerificationType", "VerificationType"},
		{"User", "id", "String!"},
		{"User", "canBeAssignedToCases", "Boolean!"},
		{"CaseInformation", "riskAssessmentSubmission", "RiskAssessmentSubmission"},
		{"RiskAssessmentSubmission", "answers", "[RiskAssessmentAnswer!]!"},
		{"DocumentFile", "contentsUrl", "String"},
		{"CaseInformation", "caseStatus", "String!"},
		{"IndividualUrls", "verification", "VerificationUrl"},
	} {
		def := schema.Types[tc.typ]
		if def == nil {
			t.Errorf("no type %s", tc.typ)
			continue
		}
		f := def.Fields.ForName(tc.field)
		if f == nil {
			t.Errorf("no field %s.%s", tc.typ, tc.field)
			continue
		}
		if got := f.Type.String(); got != tc.want {
			t.Errorf("%s.%s: %s; want %s", tc.typ, tc.field, got, tc.want)
		}
	}
	for union, want := range map[string][]string{
		"CreateCaseResult":                {"CaseInformation", "ValidationErrors"},
		"CaseDetailsResult":               {"CaseInformation", "ValidationErrors"},
		"CaseResult":                      {"CaseInformation", "ValidationErrors"},
		"WebhookSubscriptionResult":       {"ValidationErrors", "WebhookSubscription"},
		"DeleteWebhookSubscriptionResult": {"DeletedWebhookSubscription", "ValidationErrors"},
		"VerificationUrl":                 {"InvalidUrl", "ValidUrl"},
	} {
		def := schema.Types[union]
		if def == nil || def.Kind != ast.Union {
			t.Errorf("%s is not a union", union)
			continue
		}
		got := slices.Sorted(slices.Values(def.Types))
		if !slices.Equal(got, want) {
			t.Errorf("union %s = %v; want %v", union, got, want)
		}
	}
	if arg := schema.Query.Fields.ForName("caseDetails").Arguments.ForName("caseId"); arg == nil || arg.Type.String() != "String!" {
		t.Error("caseDetails must take caseId: String!")
	}
	// The documented enums, by their documented names.
	for enum, want := range map[string][]string{
		"InitialCaseState":      {"DRAFT", "SUBMIT_TO_FIRST_AML"},
		"RunVerificationChecks": {"DO_NOT_RUN", "RUN_ALL"},
	} {
		def := schema.Types[enum]
		if def == nil || def.Kind != ast.Enum {
			t.Errorf("%s is not an enum", enum)
			continue
		}
		var got []string
		for _, v := range def.EnumValues {
			got = append(got, v.Name)
		}
		if slices.Sort(got); !slices.Equal(got, want) {
			t.Errorf("enum %s = %v; want %v", enum, got, want)
		}
	}
	if def := schema.Types["Decimal"]; def == nil || def.Kind != ast.Scalar {
		t.Error("Decimal is not a scalar")
	}
	// Every type and field carries a description with its provenance.
	for name, def := range schema.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		if def.Description == "" {
			t.Errorf("type %s has no description", name)
		}
		for _, f := range def.Fields {
			if !strings.HasPrefix(f.Name, "__") && f.Description == "" {
				t.Errorf("field %s.%s has no description", name, f.Name)
			}
		}
	}
}

func TestFirstAMLOperations(t *testing.T) {
	schema := firstamlSchema(t)
	doc := firstamlOperations(t, schema)
	got := map[string]ast.Operation{}
	for _, op := range doc.Operations {
		if op.Name == "" || !unicode.IsUpper(rune(op.Name[0])) {
			t.Errorf("operation %q: name must be PascalCase so genqlient exports it", op.Name)
		}
		got[op.Name] = op.Operation
		firstamlCheckTypename(t, schema, doc, op.Name, op.SelectionSet)
	}
	want := map[string]ast.Operation{
		"Me":                              ast.Query,
		"CaseDetails":                     ast.Query,
		"OrganizationDetails":             ast.Query,
		"CaseRiskAssessment":              ast.Query,
		"CaseDocuments":                   ast.Query,
		"CreateLiteCase":                  ast.Mutation,
		"CreateCaseForIndividuals":        ast.Mutation,
		"CreateCase":                      ast.Mutation,
		"CreateCaseForEntities":           ast.Mutation,
		"EscalateLiteCase":                ast.Mutation,
		"SubmitCase":                      ast.Mutation,
		"CompleteCase":                    ast.Mutation,
		"CreateWebhookSubscription":       ast.Mutation,
		"DeleteWebhookSubscription":       ast.Mutation,
		"AddWebhookSubscriptionTarget":    ast.Mutation,
		"RemoveWebhookSubscriptionTarget": ast.Mutation,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("operations = %v; want %v", got, want)
	}
	// Each generated operation text (what genqlient sends) is valid on its
	// own, with the fragments it uses.
	for name, text := range map[string]string{
		"Me":                              firstamlgql.Me_Operation,
		"CaseDetails":                     firstamlgql.CaseDetails_Operation,
		"OrganizationDetails":             firstamlgql.OrganizationDetails_Operation,
		"CaseRiskAssessment":              firstamlgql.CaseRiskAssessment_Operation,
		"CaseDocuments":                   firstamlgql.CaseDocuments_Operation,
		"CreateLiteCase":                  firstamlgql.CreateLiteCase_Operation,
		"CreateCaseForIndividuals":        firstamlgql.CreateCaseForIndividuals_Operation,
		"CreateCase":                      firstamlgql.CreateCase_Operation,
		"CreateCaseForEntities":           firstamlgql.CreateCaseForEntities_Operation,
		"EscalateLiteCase":                firstamlgql.EscalateLiteCase_Operation,
		"SubmitCase":                      firstamlgql.SubmitCase_Operation,
		"CompleteCase":                    firstamlgql.CompleteCase_Operation,
		"CreateWebhookSubscription":       firstamlgql.CreateWebhookSubscription_Operation,
		"DeleteWebhookSubscription":       firstamlgql.DeleteWebhookSubscription_Operation,
		"AddWebhookSubscriptionTarget":    firstamlgql.AddWebhookSubscriptionTarget_Operation,
		"RemoveWebhookSubscriptionTarget": firstamlgql.RemoveWebhookSubscriptionTarget_Operation,
	} {
		if _, errs := gqlparser.LoadQuery(schema, text); len(errs) > 0 {
			t.Errorf("%s_Operation: %v", name, errs)
		}
	}
}

// firstamlCheckTypename fails if a selection of a union or interface field
// does not ask for __typename directly (genqlient needs it to pick the Go
// type, and callers type-switch on the result).
func firstamlCheckTypename(t *testing.T, schema *ast.Schema, doc *ast.QueryDocument, where string, set ast.SelectionSet) {
	t.Helper()
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition == nil || len(s.SelectionSet) == 0 {
				continue
			}
			if def := schema.Types[s.Definition.Type.Name()]; def.IsAbstractType() {
				has := false
				for _, sub := range s.SelectionSet {
					if f, ok := sub.(*ast.Field); ok && f.Name == "__typename" {
						has = true
					}
				}
				if !has {
					t.Errorf("%s.%s (%s) does not select __typename", where, s.Alias, def.Name)
				}
			}
			firstamlCheckTypename(t, schema, doc, where+"."+s.Alias, s.SelectionSet)
		case *ast.InlineFragment:
			firstamlCheckTypename(t, schema, doc, where, s.SelectionSet)
		case *ast.FragmentSpread:
			firstamlCheckTypename(t, schema, doc, where+"..."+s.Name, doc.Fragments.ForName(s.Name).SelectionSet)
		}
	}
}

func TestFirstAMLSeedMeQuery(t *testing.T) {
	schema := firstamlSchema(t)
	if _, errs := gqlparser.LoadQuery(schema, firstamlSeed(t, "seed-me-query.graphql")); len(errs) > 0 {
		t.Errorf("seed me query: %v", errs)
	}
	for name, q := range map[string]string{
		"field outside the schema":        `query { me { apiClientId clientSecret } }`,
		"caseDetails without caseId":      `query { caseDetails { __typename } }`,
		"union field without fragment":    `query { caseDetails(caseId: "1") { caseId } }`,
		"create with unknown input field": `mutation { createLiteCase(input: {organizationId: "o", individual: {preferredName: {firstName: "A", lastName: "B"}}, color: "red"}) { __typename } }`,
		"unknown initialState":            `mutation { createLiteCase(input: {organizationId: "o", initialState: SUBMIT, individual: {preferredName: {firstName: "A", lastName: "B"}}}) { __typename } }`,
	} {
		if _, errs := gqlparser.LoadQuery(schema, q); len(errs) == 0 {
			t.Errorf("%s: query validated; want an error", name)
		} else {
			t.Logf("%s: rejected: %v", name, errs)
		}
	}
}

func TestFirstAMLSeedMeAnswer(t *testing.T) {
	schema := firstamlSchema(t)
	literal := firstamlSeed(t, "seed-me-response.txt")
	// The seed's example answer is not JSON: the offices have unquoted
	// `name:` keys and the offices array ends with a trailing comma. Keep
	// the literal and repair exactly those two defects.
	if json.Valid([]byte(literal)) {
		t.Fatal("the literal seed answer parses as JSON; the repair below is no longer needed")
	}
	repaired := firstamlRepairSeedAnswer(literal)
	if !json.Valid([]byte(repaired)) {
		t.Fatalf("repaired seed answer is still invalid JSON:\n%s", repaired)
	}
	// Two keys gain two quotes each; one comma goes.
	if strings.Count(literal, " name:") != 2 || len(repaired) != len(literal)+2*2-1 {
		t.Fatalf("the repair changed more than two quoted keys and one comma:\n%s", repaired)
	}

	query, errs := gqlparser.LoadQuery(schema, firstamlSeed(t, "seed-me-query.graphql"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := firstamlCheckResponse(schema, query, query.Operations[0], repaired); err != nil {
		t.Errorf("repaired seed answer vs the seed query: %v", err)
	}

	// The genqlient-generated Me selects the same fields: the answer decodes
	// into MeResponse with no field left over.
	var got struct {
		Data firstamlgql.MeResponse `json:"data"`
	}
	dec := json.NewDecoder(strings.NewReader(repaired))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode into MeResponse: %v", err)
	}
	me := got.Data.Me
	if me.ApiClientId != "abcdEFGokp5lRMf8fnk6IMXPycidd5TxZe@clients" ||
		me.FriendlyApiClientName != "Public API - your org inc." ||
		!slices.Equal(me.Scopes, []string{"case-management", "read-only"}) {
		t.Errorf("me = %+v", me)
	}
	if len(me.AccessibleOrganizations) != 1 {
		t.Fatalf("accessibleOrganizations = %+v; want 1", me.AccessibleOrganizations)
	}
	org := me.AccessibleOrganizations[0]
	if org.OrganizationId != "abc1234567894067a56d52412e600e7c" || org.Name != "Your org inc." {
		t.Errorf("organization = %+v", org)
	}
	wantOffices := []firstamlgql.Office{
		{Key: "abc12345-3476-4cf6-8491-bdd1272cf015", Name: "Syndey"}, // sic
		{Key: "abc456789-3476-4cf6-8491-bdd1272cf015", Name: "Auckland"},
	}
	if !slices.Equal(org.Offices, wantOffices) {
		t.Errorf("offices = %+v; want %+v", org.Offices, wantOffices)
	}
	meOp, _ := gqlparser.LoadQuery(schema, firstamlgql.Me_Operation)
	if err := firstamlCheckResponse(schema, meOp, meOp.Operations[0], repaired); err != nil {
		t.Errorf("repaired seed answer vs firstamlgql.Me_Operation: %v", err)
	}

	broken := map[string]string{
		"scopes as a string": strings.Replace(repaired, `"scopes": [
"case-management",
"read-only"
]`, `"scopes": "case-management read-only"`, 1),
		"offices as an object":   regexp.MustCompile(`"offices": \[[^\]]*\]`).ReplaceAllString(repaired, `"offices": {"key": "k", "name": "n"}`),
		"extra field":            strings.Replace(repaired, `"apiClientId"`, `"secret": "x", "apiClientId"`, 1),
		"office key as a number": strings.Replace(repaired, `"key": "abc12345-3476-4cf6-8491-bdd1272cf015"`, `"key": 42`, 1),
	}
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			if b == repaired {
				t.Fatal("the replacement did not apply")
			}
			var got struct {
				Data firstamlgql.MeResponse `json:"data"`
			}
			dec := json.NewDecoder(strings.NewReader(b))
			dec.DisallowUnknownFields()
			errDecode := dec.Decode(&got)
			errSchema := firstamlCheckResponse(schema, query, query.Operations[0], b)
			if errDecode == nil || errSchema == nil {
				t.Fatalf("decode: %v; schema: %v; want both to fail", errDecode, errSchema)
			}
			t.Logf("rejected: decode: %v; schema: %v", errDecode, errSchema)
		})
	}
	t.Run("missing apiClientId", func(t *testing.T) {
		b := strings.Replace(repaired, `"apiClientId": "abcdEFGokp5lRMf8fnk6IMXPycidd5TxZe@clients",`, "", 1)
		if err := firstamlCheckResponse(schema, query, query.Operations[0], b); err == nil {
			t.Error("schema check passed; want an error for a missing non-null field")
		}
	})
	t.Run("null scopes", func(t *testing.T) {
		b := strings.Replace(repaired, `"scopes": [
"case-management",
"read-only"
]`, `"scopes": null`, 1)
		if err := firstamlCheckResponse(schema, query, query.Operations[0], b); err == nil {
			t.Error("schema check passed; want an error for null in a non-null field")
		}
	})
}

// firstamlCheckResponse checks a GraphQL response body's data against the
// selection of op: every selected field present under its response key, no
// other keys, values of the schema's types, non-null respected, and union
// members chosen by __typename.
func firstamlCheckResponse(schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, body string) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var resp struct {
		Data   any             `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := dec.Decode(&resp); err != nil {
		return err
	}
	root := schema.Query
	if op.Operation == ast.Mutation {
		root = schema.Mutation
	}
	c := firstamlChecker{schema: schema, doc: doc}
	return c.object(root, op.SelectionSet, resp.Data, "data")
}

type firstamlChecker struct {
	schema *ast.Schema
	doc    *ast.QueryDocument
}

func (c firstamlChecker) object(def *ast.Definition, set ast.SelectionSet, v any, path string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: got %T; want an object", path, v)
	}
	concrete := def
	if def.IsAbstractType() {
		tn, _ := obj["__typename"].(string)
		concrete = c.schema.Types[tn]
		if concrete == nil || !slices.Contains(c.schema.GetPossibleTypes(def), concrete) {
			return fmt.Errorf("%s: __typename %q is not a member of %s", path, tn, def.Name)
		}
	}
	var keys []string
	fields := map[string][]*ast.Field{}
	c.collect(concrete, set, &keys, fields)
	for _, key := range keys {
		f := fields[key][0]
		val, ok := obj[key]
		if !ok {
			return fmt.Errorf("%s.%s: missing", path, key)
		}
		if f.Name == "__typename" {
			if val != concrete.Name {
				return fmt.Errorf("%s.__typename: %v; want %s", path, val, concrete.Name)
			}
			continue
		}
		fd := concrete.Fields.ForName(f.Name)
		if fd == nil {
			return fmt.Errorf("%s.%s: no field %s on %s", path, key, f.Name, concrete.Name)
		}
		var sub ast.SelectionSet
		for _, same := range fields[key] {
			sub = append(sub, same.SelectionSet...)
		}
		if err := c.value(fd.Type, sub, val, path+"."+key); err != nil {
			return err
		}
	}
	for k := range obj {
		if _, ok := fields[k]; !ok {
			return fmt.Errorf("%s.%s: not selected", path, k)
		}
	}
	return nil
}

// collect gathers the fields that apply to the concrete type, by response
// key, in order (GraphQL's CollectFields, without directives).
func (c firstamlChecker) collect(concrete *ast.Definition, set ast.SelectionSet, keys *[]string, fields map[string][]*ast.Field) {
	applies := func(cond string) bool {
		if cond == "" || cond == concrete.Name {
			return true
		}
		def := c.schema.Types[cond]
		return def != nil && def.IsAbstractType() && slices.Contains(c.schema.GetPossibleTypes(def), concrete)
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			if _, ok := fields[key]; !ok {
				*keys = append(*keys, key)
			}
			fields[key] = append(fields[key], s)
		case *ast.InlineFragment:
			if applies(s.TypeCondition) {
				c.collect(concrete, s.SelectionSet, keys, fields)
			}
		case *ast.FragmentSpread:
			if frag := c.doc.Fragments.ForName(s.Name); frag != nil && applies(frag.TypeCondition) {
				c.collect(concrete, frag.SelectionSet, keys, fields)
			}
		}
	}
}

func (c firstamlChecker) value(typ *ast.Type, set ast.SelectionSet, v any, path string) error {
	if v == nil {
		if typ.NonNull {
			return fmt.Errorf("%s: null in non-null %s", path, typ)
		}
		return nil
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: got %T; want a list (%s)", path, v, typ)
		}
		for i, e := range list {
			if err := c.value(typ.Elem, set, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	def := c.schema.Types[typ.NamedType]
	switch def.Kind {
	case ast.Object, ast.Interface, ast.Union:
		return c.object(def, set, v, path)
	case ast.Enum:
		s, ok := v.(string)
		if !ok || def.EnumValues.ForName(s) == nil {
			return fmt.Errorf("%s: %v is not a %s", path, v, def.Name)
		}
		return nil
	}
	ok := false
	switch def.Name {
	case "String":
		_, ok = v.(string)
	case "ID":
		switch v.(type) {
		case string, json.Number:
			ok = true
		}
	case "Boolean":
		_, ok = v.(bool)
	case "Int":
		n, isNum := v.(json.Number)
		_, err := n.Int64()
		ok = isNum && err == nil
	case "Float":
		_, ok = v.(json.Number)
	default:
		return fmt.Errorf("%s: custom scalar %s is not checked", path, def.Name)
	}
	if !ok {
		return fmt.Errorf("%s: %v (%T) is not a %s", path, v, v, def.Name)
	}
	return nil
}

// TestFirstAMLGenqlientClient sends every generated operation through a
// stand-in for the server that checks each request against firstaml.yaml
// and firstaml.graphql and answers with schema-checked data, then checks
// the union decoding callers rely on.
func TestFirstAMLGenqlientClient(t *testing.T) {
	schema := firstamlSchema(t)
	answers := map[string]string{
		"Me": firstamlRepairSeedAnswer(firstamlSeed(t, "seed-me-response.txt")),
		"CaseDetails": `{"data":{"caseDetails":{"__typename":"CaseInformation",
			"caseId":"12345","reference":"REF-1","caseStatus":"IN_PROGRESS","caseType":"INDIVIDUALS","name":"Smith onboarding",
			"timeReceived":"2025-01-02T03:04:05Z","urls":{"view":"https://app.firstaml.com/cases/12345"},
			"individuals":[{"individualId":"i-1",
				"legalName":{"firstName":"Jane","middleName":null,"lastName":"Smith","fullName":"Jane Smith"},
				"preferredName":null,"emailAddress":"jane@example.com","phoneNumber":null,"isCaseContact":true,"requiresCDD":true,
				"individualVerificationChecksStatus":{"overall":"PASS"},
				"urls":{"view":"https://app.firstaml.com/individuals/i-1","verification":{"__typename":"ValidUrl","url":"https://verify.firstaml.com/abc"}}}],
			"notes":null,"caseDetails":{"caseRequestor":{"fullName":"Sam Lead","emailAddress":"sam@example.com"},"caseLead":null},
			"organization":{"organizationId":"abc1234567894067a56d52412e600e7c","name":"Your org inc."},
			"office":{"key":"abc12345-3476-4cf6-8491-bdd1272cf015","name":"Syndey"},
			"entities":[]}}}`,
		"CreateLiteCase": `{"data":{"createLiteCase":{"__typename":"ValidationErrors",
			"errors":[{"__typename":"ValidationError","message":"Office is required for this organization","fieldPath":["officeId"]}]}}}`,
		"CreateCaseForIndividuals": `{"data":{"createCaseForIndividuals":{"__typename":"CaseInformation",
			"caseId":"67890","reference":null,"caseStatus":"IN_PROGRESS","caseType":null,"name":null,"timeReceived":null,
			"urls":{"view":null},
			"individuals":[{"individualId":"i-2","legalName":null,"preferredName":null,"emailAddress":null,"phoneNumber":"+6421000000",
				"isCaseContact":null,"requiresCDD":null,"individualVerificationChecksStatus":null,
				"urls":{"view":null,"verification":{"__typename":"InvalidUrl","message":"Individual does not need verification"}}}]}}}`,
	}
	var sent []map[string]any
	doer := firstamlDoer(func(r *http.Request) (*http.Response, error) {
		// What the SDK's Doer adds: auth and the User-Agent the go-live
		// review requires (genqlient sets neither).
		r.Header.Set("Authorization", "Bearer token")
		r.Header.Set("User-Agent", "complykit-go/0.1.0")
		x, err := validator(t, firstamlSpec).ValidateRequest(r.Context(), r, r.URL.Path)
		if err != nil {
			t.Errorf("request: %v", err)
			return nil, err
		}
		var req struct {
			Query         string         `json:"query"`
			OperationName string         `json:"operationName"`
			Variables     map[string]any `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return nil, err
		}
		sent = append(sent, req.Variables)
		doc, errs := gqlparser.LoadQuery(schema, req.Query)
		if len(errs) > 0 {
			t.Errorf("%s: %v", req.OperationName, errs)
			return nil, errs
		}
		op := doc.Operations.ForName(req.OperationName)
		if op == nil {
			return nil, fmt.Errorf("no operation %q", req.OperationName)
		}
		answer := answers[req.OperationName]
		if err := firstamlCheckResponse(schema, doc, op, answer); err != nil {
			t.Errorf("%s answer: %v", req.OperationName, err)
		}
		h := http.Header{"Content-Type": {"application/graphql-response+json"}}
		if err := x.ValidateResponse(r.Context(), 200, h, []byte(answer)); err != nil {
			t.Errorf("%s answer: %v", req.OperationName, err)
		}
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(answer)), Request: r}, nil
	})
	client := graphql.NewClient("https://public-api-sandbox.firstaml.com/graphql/", doer)
	ctx := context.Background()

	me, err := firstamlgql.Me(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if got := me.Me.AccessibleOrganizations[0].Offices[1].Name; got != "Auckland" {
		t.Errorf("second office = %q; want Auckland", got)
	}

	cd, err := firstamlgql.CaseDetails(ctx, client, "12345")
	if err != nil {
		t.Fatal(err)
	}
	switch c := cd.CaseDetails.(type) {
	case *firstamlgql.CaseDetailsResultCaseInformation:
		if c.CaseId != "12345" || c.CaseStatus != "IN_PROGRESS" || len(c.Individuals) != 1 {
			t.Errorf("case = %+v", c)
		}
		v, ok := c.Individuals[0].Urls.Verification.(*firstamlgql.VerificationUrlValidUrl)
		if !ok || v.Url != "https://verify.firstaml.com/abc" {
			t.Errorf("verification = %#v; want a ValidUrl", c.Individuals[0].Urls.Verification)
		}
		if c.Office == nil || c.Office.Name != "Syndey" || c.CaseDetails.CaseLead != nil {
			t.Errorf("office/caseDetails = %+v / %+v", c.Office, c.CaseDetails)
		}
	default:
		t.Errorf("caseDetails = %#v; want *CaseDetailsResultCaseInformation", cd.CaseDetails)
	}

	office := "abc12345-3476-4cf6-8491-bdd1272cf015"
	lite, err := firstamlgql.CreateLiteCase(ctx, client, firstamlgql.CreateLiteCaseInput{
		OrganizationId: "abc1234567894067a56d52412e600e7c",
		Individual: firstamlgql.LiteCaseIndividualInput{
			PreferredName: firstamlgql.NameInput{FirstName: "Jane", LastName: "Smith"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := lite.CreateLiteCase.(*firstamlgql.CreateCaseResultValidationErrors); !ok ||
		len(v.Errors) != 1 || !slices.Equal(v.Errors[0].FieldPath, []string{"officeId"}) {
		t.Errorf("createLiteCase = %#v; want ValidationErrors on officeId", lite.CreateLiteCase)
	}
	// Unset optional inputs are omitted, not sent as null.
	input, _ := json.Marshal(sent[len(sent)-1]["input"])
	if want := `{"individual":{"preferredName":{"firstName":"Jane","lastName":"Smith"}},"organizationId":"abc1234567894067a56d52412e600e7c"}`; string(input) != want {
		t.Errorf("createLiteCase input = %s; want %s", input, want)
	}

	yes := true
	state := firstamlgql.InitialCaseStateSubmitToFirstAml
	ind, err := firstamlgql.CreateCaseForIndividuals(ctx, client, firstamlgql.CreateCaseForIndividualsInput{
		OrganizationId: "abc1234567894067a56d52412e600e7c",
		OfficeId:       &office,
		InitialState:   &state,
		Individuals: []firstamlgql.IndividualDetailsInput{{
			PhoneNumber: firstamlPtr("+6421000000"), NeedsVerification: &yes, IsCaseContact: &yes,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := ind.CreateCaseForIndividuals.(*firstamlgql.CreateCaseResultCaseInformation)
	if !ok || c.CaseId != "67890" || c.Reference != nil {
		t.Fatalf("createCaseForIndividuals = %#v; want CaseInformation 67890", ind.CreateCaseForIndividuals)
	}
	if v, ok := c.Individuals[0].Urls.Verification.(*firstamlgql.VerificationUrlInvalidUrl); !ok || v.Message == "" {
		t.Errorf("verification = %#v; want an InvalidUrl", c.Individuals[0].Urls.Verification)
	}
	input, _ = json.Marshal(sent[len(sent)-1]["input"])
	if want := `{"individuals":[{"isCaseContact":true,"needsVerification":true,"phoneNumber":"+6421000000"}],"initialState":"SUBMIT_TO_FIRST_AML","officeId":"abc12345-3476-4cf6-8491-bdd1272cf015","organizationId":"abc1234567894067a56d52412e600e7c"}`; string(input) != want {
		t.Errorf("createCaseForIndividuals input = %s; want %s", input, want)
	}
}

// TestFirstAMLGenqlient400 shows how a GraphQL-over-HTTP 400 reaches a
// genqlient caller: as a *graphql.HTTPError carrying the parsed errors.
func TestFirstAMLGenqlient400(t *testing.T) {
	const body = `{"errors":[{"message":"Variable \"$caseId\" of required type \"String!\" was not provided."}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/graphql-response+json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	_, err := firstamlgql.CaseDetails(context.Background(), graphql.NewClient(srv.URL+"/graphql/", srv.Client()), "")
	var httpErr *graphql.HTTPError
	if !errors.As(err, &httpErr) || httpErr.StatusCode != 400 || len(httpErr.Response.Errors) != 1 {
		t.Fatalf("err = %v; want a *graphql.HTTPError 400 with one GraphQL error", err)
	}
}

// TestFirstAMLStrictServer runs the generated strict server and client
// against each other, with both sides checked against the spec.
func TestFirstAMLStrictServer(t *testing.T) {
	impl := &firstamlServer{}
	h := firstaml.HandlerFromMux(firstaml.NewStrictHandler(impl, nil), http.NewServeMux())
	v := validator(t, firstamlSpec)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, err := v.ValidateRequest(r.Context(), r, r.URL.Path)
		if err != nil {
			t.Logf("request rejected: %v", err)
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := x.ValidateResponse(r.Context(), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("response: %v", err)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()

	c, err := firstaml.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var seed firstaml.TokenRequest
	if err := json.Unmarshal([]byte(firstamlSeed(t, "seed-token-request.json")), &seed); err != nil {
		t.Fatal(err)
	}
	if seed.Audience != firstaml.TokenRequestAudienceFirstAML || seed.GrantType != firstaml.TokenRequestGrantTypeClientCredentials {
		t.Errorf("seed request decoded as %+v", seed)
	}
	tok, err := c.RequestTokenWithResponse(ctx, seed)
	if err != nil {
		t.Fatal(err)
	}
	if tok.JSON200 == nil || tok.JSON200.ExpiresIn != 86400 || tok.JSON200.TokenType != "Bearer" {
		t.Fatalf("token = %d %s", tok.StatusCode(), tok.Body)
	}
	if impl.token.ClientId != "6SEYDZ6zbpcyyBUiCM3t9AGgKNO8904T" {
		t.Errorf("server bound %+v", impl.token)
	}

	gql, err := c.GraphqlWithResponse(ctx, &firstaml.GraphqlParams{UserAgent: "complykit-go/0.1.0"},
		firstaml.GraphQLRequest{Query: firstamlgql.Me_Operation, OperationName: firstamlPtr("Me")})
	if err != nil {
		t.Fatal(err)
	}
	if gql.ApplicationgraphqlResponseJSON200 == nil || gql.ApplicationgraphqlResponseJSON200.Data == nil {
		t.Fatalf("graphql = %d %q %s", gql.StatusCode(), gql.ContentType(), gql.Body)
	}
	if impl.userAgent != "complykit-go/0.1.0" {
		t.Errorf("server saw User-Agent %q", impl.userAgent)
	}

	// Without a User-Agent the request breaks the contract (and the fake
	// will refuse it).
	req, err := firstaml.NewGraphqlRequest(srv.URL, &firstaml.GraphqlParams{}, firstaml.GraphQLRequest{Query: "{ me { apiClientId } }"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ValidateRequest(ctx, req, req.URL.Path); err == nil {
		t.Error("a /graphql/ request without User-Agent validated")
	}
}

type firstamlServer struct {
	token     firstaml.TokenRequest
	userAgent string
}

func (s *firstamlServer) RequestToken(_ context.Context, req firstaml.RequestTokenRequestObject) (firstaml.RequestTokenResponseObject, error) {
	s.token = *req.Body
	return firstaml.RequestToken200JSONResponse{AccessToken: "eyJhbGciOiJS....OkFx38SFQ", ExpiresIn: 86400, TokenType: "Bearer"}, nil
}

func (s *firstamlServer) DownloadDocument(_ context.Context, req firstaml.DownloadDocumentRequestObject) (firstaml.DownloadDocumentResponseObject, error) {
	return firstaml.DownloadDocument302Response{Headers: firstaml.DownloadDocument302ResponseHeaders{Location: "https://storage.example/" + req.DocumentId + "?sig=x"}}, nil
}

func (s *firstamlServer) Graphql(_ context.Context, req firstaml.GraphqlRequestObject) (firstaml.GraphqlResponseObject, error) {
	s.userAgent = req.Params.UserAgent
	data := map[string]any{"me": map[string]any{"apiClientId": "x@clients"}}
	return firstaml.Graphql200ApplicationGraphqlResponsePlusJSONResponse{
		GraphQLResultApplicationGraphqlResponsePlusJSONResponse: firstaml.GraphQLResultApplicationGraphqlResponsePlusJSONResponse{Data: data},
	}, nil
}

func firstamlPtr[T any](v T) *T { return &v }

// firstamlDoer adapts a function to genqlient's graphql.Doer.
type firstamlDoer func(*http.Request) (*http.Response, error)

func (f firstamlDoer) Do(r *http.Request) (*http.Response, error) {
	// Buffer the body so the validator and the handler can both read it.
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return f(r)
}

// TestFirstAMLGenqlientDocumentedShapes sends the operations added from
// First AML's later docs through a stand-in that checks each request
// against firstaml.yaml and firstaml.graphql and answers in the documented
// shapes (changelog 2023-09-12's users and risk assessment, the validation
// page's fieldPath list), then checks what callers decode.
func TestFirstAMLGenqlientDocumentedShapes(t *testing.T) {
	schema := firstamlSchema(t)
	answers := map[string]string{
		"CreateCase": `{"data":{"createCase":{"__typename":"ValidationErrors","errors":[
			{"__typename":"ValidationError","message":"Email address is not valid","fieldPath":["individuals","1","emailAddress"]}]}}}`,
		"OrganizationDetails": `{"data":{"me":{"accessibleOrganizations":[{"organizationId":"abc1234567894067a56d52412e600e7c","name":"Your org inc.",
			"users":[{"id":"u-1","name":"Sam","emailAddress":"sam@example.com","disabled":false,"canBeAssignedToCases":true}],
			"individualVerificationTypes":[{"verificationTypeId":"vt-1","name":"EIV"}],
			"defaultIndividualVerificationType":{"verificationTypeId":"vt-1","name":"EIV"},
			"offices":[{"key":"abc12345-3476-4cf6-8491-bdd1272cf015","name":"Syndey","users":[],"individualVerificationTypes":[],"defaultIndividualVerificationType":null}]}]}}}`,
		"CaseRiskAssessment": `{"data":{"caseDetails":{"__typename":"CaseInformation","caseId":"12345","riskAssessmentSubmission":{
			"completedOn":"2025-01-02T03:04:05Z","comment":null,"totalScore":7.5,
			"answers":[{"question":"PEP?","score":2,"comment":null,"evaluation":"LOW"}]}}}}`,
	}
	var sent []string
	doer := firstamlDoer(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("Authorization", "Bearer token")
		r.Header.Set("User-Agent", "complykit-go/0.1.0")
		x, err := validator(t, firstamlSpec).ValidateRequest(r.Context(), r, r.URL.Path)
		if err != nil {
			t.Errorf("request: %v", err)
			return nil, err
		}
		body, _ := io.ReadAll(r.Body)
		sent = append(sent, string(body))
		var req struct {
			Query         string `json:"query"`
			OperationName string `json:"operationName"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		doc, errs := gqlparser.LoadQuery(schema, req.Query)
		if len(errs) > 0 {
			t.Errorf("%s: %v", req.OperationName, errs)
			return nil, errs
		}
		answer := answers[req.OperationName]
		if err := firstamlCheckResponse(schema, doc, doc.Operations.ForName(req.OperationName), answer); err != nil {
			t.Errorf("%s answer: %v", req.OperationName, err)
		}
		h := http.Header{"Content-Type": {"application/graphql-response+json"}}
		if err := x.ValidateResponse(r.Context(), 200, h, []byte(answer)); err != nil {
			t.Errorf("%s answer: %v", req.OperationName, err)
		}
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(answer)), Request: r}, nil
	})
	client := graphql.NewClient("https://public-api-sandbox.firstaml.com/graphql/", doer)
	ctx := context.Background()

	created, err := firstamlgql.CreateCase(ctx, client, firstamlgql.CreateCaseInput{
		OrganizationId:        "abc1234567894067a56d52412e600e7c",
		InitialState:          firstamlgql.InitialCaseStateDraft,
		RunVerificationChecks: firstamlgql.RunVerificationChecksDoNotRun,
		Individuals:           []firstamlgql.IndividualDetailsInput{{PreferredName: &firstamlgql.NameInput{FirstName: "Jane", LastName: "Doe"}}},
		TransactionValue:      json.Number("450000.10"),
		Lead:                  &firstamlgql.ContactDetailsInput{FullName: firstamlPtr("Sam Lead")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ve, ok := created.CreateCase.(*firstamlgql.CreateCaseResultValidationErrors)
	if !ok || !slices.Equal(ve.Errors[0].FieldPath, []string{"individuals", "1", "emailAddress"}) || ve.Errors[0].Typename != "ValidationError" {
		t.Errorf("createCase = %#v", created.CreateCase)
	}
	// The Decimal is a JSON number with every digit; nil fields are left out.
	if want := `"input":{"organizationId":"abc1234567894067a56d52412e600e7c","initialState":"DRAFT","runVerificationChecks":"DO_NOT_RUN","lead":{"fullName":"Sam Lead"},"individuals":[{"preferredName":{"firstName":"Jane","lastName":"Doe"}}],"transactionValue":450000.10}`; !strings.Contains(sent[0], want) {
		t.Errorf("createCase request %s; want %s", sent[0], want)
	}

	orgs, err := firstamlgql.OrganizationDetails(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	org := orgs.Me.AccessibleOrganizations[0]
	if len(org.Users) != 1 || org.Users[0].Id != "u-1" || !org.Users[0].CanBeAssignedToCases || org.DefaultIndividualVerificationType.VerificationTypeId != "vt-1" ||
		org.Offices[0].DefaultIndividualVerificationType != nil {
		t.Errorf("organization = %+v", org)
	}

	ra, err := firstamlgql.CaseRiskAssessment(ctx, client, "12345")
	if err != nil {
		t.Fatal(err)
	}
	ci, ok := ra.CaseDetails.(*firstamlgql.RiskAssessmentResultCaseInformation)
	if !ok || *ci.RiskAssessmentSubmission.TotalScore != 7.5 || *ci.RiskAssessmentSubmission.Answers[0].Score != 2 {
		t.Errorf("risk assessment = %#v", ra.CaseDetails)
	}
}
