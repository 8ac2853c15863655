package specs_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/complykit/complykit-go/internal/contract"
	"github.com/complykit/complykit-go/specs"
)

// stennStatuses are the statuses of https://api-docs.stenn.com/docs/status-codes
// besides 200; every operation declares all of them.
var stennStatuses = []int{400, 401, 402, 403, 404, 409, 429, 500, 502, 503, 504}

// stennCurlExample reads a curl command as the Stenn docs print it (one
// option per line, continued with '\') and returns the request it sends and
// its URL. Repeated --data values are joined with '&', as curl does.
// Supported options: --request, --url, --header, --data.
func stennCurlExample(t *testing.T, file string) (example, string) {
	t.Helper()
	text := strings.ReplaceAll(readSeedFixture(t, file), "\\\n", " ")
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range text {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case !quoted && (r == ' ' || r == '\n' || r == '\t'):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	if quoted || len(args) == 0 || args[0] != "curl" {
		t.Fatalf("%s: not a curl command: %q", file, args)
	}
	e := example{name: file, method: http.MethodGet, header: map[string]string{}}
	var url string
	var data []string
	for i := 1; i < len(args); i += 2 {
		if i+1 >= len(args) {
			t.Fatalf("%s: option %s has no value", file, args[i])
		}
		v := args[i+1]
		switch args[i] {
		case "--request":
			e.method = v
		case "--url":
			url = v
		case "--header":
			k, val, ok := strings.Cut(v, ": ")
			if !ok {
				t.Fatalf("%s: bad header %q", file, v)
			}
			e.header[k] = val
		case "--data":
			data = append(data, v)
		default:
			t.Fatalf("%s: unsupported option %s", file, args[i])
		}
	}
	e.body = strings.Join(data, "&")
	const base = "https://{base_url}"
	if !strings.HasPrefix(url, base) {
		t.Fatalf("%s: url %q does not start with %s", file, url, base)
	}
	e.target = strings.TrimPrefix(url, base)
	return e, url
}

// stennSchema returns the named component schema of stenn.yaml.
func stennSchema(t *testing.T, name string) *openapi3.Schema {
	t.Helper()
	ref := validator(t, "stenn.yaml").Doc().Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("stenn.yaml: no schema %s", name)
	}
	return ref.Value
}

func stennVisitJSON(t *testing.T, s *openapi3.Schema, doc string) error {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	return s.VisitJSON(v, openapi3.MultiErrors())
}

func TestStennSpec(t *testing.T) {
	doc, err := specs.Load("stenn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ops := auditOpenAPIOperations(t, doc)
	if len(ops) != 2 || ops["requestToken"] == nil || ops["listCompanies"] == nil {
		t.Fatalf("operations = %v; want exactly requestToken and listCompanies (no invented paths)", slices.Sorted(func(yield func(string) bool) {
			for id := range ops {
				if !yield(id) {
					return
				}
			}
		}))
	}
	if _, _, err := contract.New(doc).FindRoute("POST", "/auth/v1/token"); err != nil {
		t.Errorf("token path: %v", err)
	}

	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	if want := []string{"https://api.stenn.com", "https://api.stenn.com/sandbox"}; !slices.Equal(urls, want) {
		t.Errorf("servers = %q; want %q", urls, want)
	}

	token := ops["requestToken"]
	if token.Security == nil || len(*token.Security) != 0 {
		t.Errorf("requestToken: security = %v; want []", token.Security)
	}
	if token.RequestBody == nil || token.RequestBody.Value.Content.Get("application/x-www-form-urlencoded") == nil {
		t.Error("requestToken: want an application/x-www-form-urlencoded body")
	}
	decision, _ := token.Extensions["x-decision"].(string)
	for _, want := range []string{"/auth/v1/token", "/v1/auth/token", "86400", "20 hours"} {
		if !strings.Contains(decision, want) {
			t.Errorf("requestToken: x-decision does not mention %q", want)
		}
	}
	companies := ops["listCompanies"]
	if companies.Security != nil || len(doc.Security) != 1 || doc.Security[0]["bearer"] == nil {
		t.Error("listCompanies: want the document's bearer security")
	}
	if d, _ := companies.Extensions["x-decision"].(string); !strings.Contains(d, `{"object": "list", "data": [...]}`) {
		t.Errorf("listCompanies: x-decision does not state the list wrapper choice: %q", d)
	}
	if got := companies.Responses.Status(200).Value.Content.Get("application/json").Schema.Ref; got != "#/components/schemas/CompanyList" {
		t.Errorf("listCompanies 200 = %s; want CompanyList", got)
	}

	for id, op := range ops {
		for _, status := range stennStatuses {
			r := op.Responses.Status(status)
			if r == nil {
				t.Errorf("%s: no %d response", id, status)
				continue
			}
			if mt := r.Value.Content.Get("application/json"); mt == nil || mt.Schema.Ref != "#/components/schemas/Error" {
				t.Errorf("%s: %d is not the Stenn Error body", id, status)
			}
		}
		if op.Responses.Status(429).Value.Headers["Retry-After"] == nil {
			t.Errorf("%s: 429 declares no Retry-After header", id)
		}
	}

	// Objects documented without paths are components only.
	for _, name := range []string{"Company", "CompanyList", "Contact", "ContactList", "Address", "BuyerLimit", "Document", "FinancingSession", "Invoice", "Event", "EventData"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}

	// The webhook is described under x-webhooks and points at Event.
	hooks, _ := doc.Extensions["x-webhooks"].(map[string]any)
	event, _ := hooks["event"].(map[string]any)
	post, _ := event["post"].(map[string]any)
	body, _ := post["requestBody"].(map[string]any)
	content, _ := body["content"].(map[string]any)
	mt, _ := content["application/json"].(map[string]any)
	schema, _ := mt["schema"].(map[string]any)
	if ref, _ := schema["$ref"].(string); ref != "#/components/schemas/Event" {
		t.Errorf("x-webhooks.event.post body schema = %v; want a $ref to #/components/schemas/Event", schema)
	}
}

// TestStennSeedExamples validates the literal examples of seed
// 002_351b5348828873f0.txt, copied verbatim to testdata/stenn (see
// SOURCES.md there).
func TestStennSeedExamples(t *testing.T) {
	v := validator(t, "stenn.yaml")

	t.Run("token", func(t *testing.T) {
		e, url := stennCurlExample(t, "testdata/stenn/token_request.curl")
		if e.method != http.MethodPost || e.target != "/v1/auth/token" {
			t.Fatalf("curl example = %s %s; want POST /v1/auth/token (as the docs print it)", e.method, e.target)
		}
		// The curl example's path contradicts the token table; the table's
		// /auth/v1/token is the contract, so the curl path has no route.
		if _, _, err := v.FindRoute(e.method, e.target); !errors.Is(err, contract.ErrNoRoute) {
			t.Errorf("%s %s: err = %v; want ErrNoRoute (the spec uses /auth/v1/token)", e.method, url, err)
		}
		e.target = "/auth/v1/token"
		if want := "grant_type=client_credentials&client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET"; e.body != want {
			t.Errorf("body = %q; want %q", e.body, want)
		}
		e.status = 200
		e.respBody = readSeedFixture(t, "testdata/stenn/token_response.json")
		if err := e.check(t, "stenn.yaml"); err != nil {
			t.Error(err)
		}
	})

	t.Run("companies", func(t *testing.T) {
		e, _ := stennCurlExample(t, "testdata/stenn/companies_request.curl")
		if e.method != http.MethodGet || e.target != "/v1/companies" {
			t.Fatalf("curl example = %s %s; want GET /v1/companies", e.method, e.target)
		}
		if err := e.check(t, "stenn.yaml"); err != nil {
			t.Error(err)
		}
		// No response is published for this path; the reference's company
		// object in the docs' list wrapper is the contract.
		e.status = 200
		e.respBody = `{"object":"list","data":[` + readSeedFixture(t, "testdata/stenn/company_reference.json") + `]}`
		if err := e.check(t, "stenn.yaml"); err != nil {
			t.Error(err)
		}
	})
}

// TestStennDocumentedObjects validates the reference's examples against the
// component schemas they document.
func TestStennDocumentedObjects(t *testing.T) {
	for _, c := range []struct{ schema, file string }{
		{"Company", "testdata/stenn/company_reference.json"}, // https://api-docs.stenn.com/reference
		{"Event", "testdata/stenn/invoice_event.json"},       // https://api-docs.stenn.com/docs/invoice
	} {
		if err := stennVisitJSON(t, stennSchema(t, c.schema), readSeedFixture(t, c.file)); err != nil {
			t.Errorf("%s (%s): %v", c.file, c.schema, err)
		}
	}
	for name, doc := range map[string]string{
		"BuyerLimit": `{"id":"bl_1","company":"company_ZYfeeV3qxdmYoG","business_information_source":"dnb","business_information_id":"804735132",` +
			`"requested_limit":250000,"total_limit":200000.5,"available_limit":150000,"status":"approved","business_information":[{"source":"dnb"}],` +
			`"contact":{"id":"contact_CYfeeV3qxdmYoZ","object":"contact"},"supporting_documents":[{"id":"doc_1","name":"fs.pdf","purpose":"financial_statement","file_format":"pdf"}]}`,
		"FinancingSession": `{"id":"fs_1","supplier":"company_a","buyer":"company_b","invoices":[{"id":"inv_1","object":"invoice"}],"supporting_documents":[],` +
			`"success_url":"https://example.com/ok","cancel_url":"https://example.com/cancel","session_url":"https://stenn.example/s/1",` +
			`"submitted_by":"jane@example.com","locale":"zh_CN","status":"open"}`,
		"Company": `{"id":"company_1","object":"company","name":null,"website":null,"address":{"city":null,"country_code":"GB","state":null,"street":"1 High St"},` +
			`"buyer_limit":{"id":"bl_1","status":"denied"},"contacts":{"object":"list","data":[]},"created":"2020-08-12T02:12:33.231Z"}`,
	} {
		if err := stennVisitJSON(t, stennSchema(t, name), doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// Each documented invoice event type is accepted.
	for _, typ := range stennSchema(t, "Event").Properties["type"].Value.Enum {
		doc := `{"id":"evt_1","object":"event","type":"` + typ.(string) + `","livemode":true,"created":"2023-08-22T15:31:40Z",` +
			`"data":{"object":{"id":"inv_1","object":"invoice"}}}`
		if err := stennVisitJSON(t, stennSchema(t, "Event"), doc); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	if n := len(stennSchema(t, "Event").Properties["type"].Value.Enum); n != 8 {
		t.Errorf("Event.type has %d values; want the 8 documented invoice.* types", n)
	}
}

func stennCompaniesExample(status int, respBody string) example {
	return example{
		method: http.MethodGet, target: "/v1/companies",
		header: map[string]string{"Authorization": "Bearer eyJz93a...k4laUWw"},
		status: status, respBody: respBody,
	}
}

func stennTokenExample(body string, status int, respBody string) example {
	return example{
		method: http.MethodPost, target: "/auth/v1/token",
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body:   body, status: status, respBody: respBody,
	}
}

const stennTokenBody = "client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET&grant_type=client_credentials"

func TestStennValidExamples(t *testing.T) {
	throttled := stennCompaniesExample(429, `{"message":"Too many requests","exception_key":"rate_limited"}`)
	throttled.respHeader = map[string]string{"Retry-After": "1"}
	throttledNoHeader := stennCompaniesExample(429, `{"message":"Too many requests"}`)

	cases := map[string]example{
		"companies, empty list": stennCompaniesExample(200, `{"object":"list","data":[]}`),
		// The attribute table's form of contacts (a bare array) and the
		// example's (the list wrapper) are both valid.
		"contacts as a bare array":          stennCompaniesExample(200, `{"object":"list","data":[{"id":"company_1","object":"company","contacts":[{"id":"contact_1","object":"contact","email":"hank@globex.example"}]}]}`),
		"contacts in a list wrapper":        stennCompaniesExample(200, `{"object":"list","data":[{"id":"company_1","object":"company","contacts":{"object":"list","data":[]}}]}`),
		"companies 401 expired token":       stennCompaniesExample(401, `{"message":"The access token has expired","exception_key":"auth.token_expired"}`),
		"companies 429":                     throttled,
		"companies 429 without Retry-After": throttledNoHeader,
		// x/oauth2 sends the form fields in sorted order; any order is fine.
		"token, sorted fields":   stennTokenExample(stennTokenBody, 200, `{"access_token":"a","token_type":"Bearer","expires_in":72000}`),
		"token 401":              stennTokenExample(stennTokenBody, 401, `{"message":"Invalid client credentials"}`),
		"token 400, OAuth shape": stennTokenExample(stennTokenBody, 400, `{"error":"access_denied","error_description":"Unauthorized"}`),
	}
	for _, status := range stennStatuses {
		cases["companies "+http.StatusText(status)] = stennCompaniesExample(status, `{"message":"failed","exception_key":"k"}`)
		cases["token "+http.StatusText(status)] = stennTokenExample(stennTokenBody, status, `{"message":"failed"}`)
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			if err := e.check(t, "stenn.yaml"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestStennBrokenExamplesRejected makes sure the contract can fail: each
// example breaks one rule and must be rejected for that reason.
func TestStennBrokenExamplesRejected(t *testing.T) {
	company := readSeedFixture(t, "testdata/stenn/company_reference.json")
	list := func(c string) string { return `{"object":"list","data":[` + c + `]}` }

	for _, c := range []struct {
		name string
		e    example
		want string
	}{
		{"token response without access_token", stennTokenExample(stennTokenBody, 200, `{"token_type":"Bearer","expires_in":86400}`), "access_token"},
		{"token response with expires_in as a string", stennTokenExample(stennTokenBody, 200, `{"access_token":"a","expires_in":"86400"}`), "expires_in"},
		{"token request with grant_type=password", stennTokenExample("grant_type=password&client_id=c&client_secret=s", 0, ""), "grant_type"},
		{"token request without client_secret", stennTokenExample("grant_type=client_credentials&client_id=c", 0, ""), "client_secret"},
		{"token request with a JSON body", example{method: http.MethodPost, target: "/auth/v1/token", header: map[string]string{"Content-Type": "application/json"}, body: `{"grant_type":"client_credentials"}`}, "application/json"},
		{"companies as a bare array", stennCompaniesExample(200, `[`+company+`]`), "must be an object"},
		{"companies list without data", stennCompaniesExample(200, `{"object":"list"}`), `property "data" is missing`},
		{"company id as a number", stennCompaniesExample(200, list(strings.Replace(company, `"company_ZYfeeV3qxdmYoG"`, `42`, 1))), "/data/0/id"},
		{"company object customer", stennCompaniesExample(200, list(strings.Replace(company, `"object": "company"`, `"object": "customer"`, 1))), "/data/0/object"},
		{"contacts as an array of strings", stennCompaniesExample(200, list(`{"id":"company_1","object":"company","contacts":["hank@globex.example"]}`)), "/data/0/contacts"},
		{"is_signatory as a string", stennCompaniesExample(200, list(strings.Replace(company, `"is_signatory": false`, `"is_signatory": "no"`, 1))), "is_signatory"},
		{"created not a date-time", stennCompaniesExample(200, list(strings.Replace(company, `"2023-08-22T15:31:40Z"`, `"yesterday"`, 1))), "created"},
		{"error message as a number", stennCompaniesExample(500, `{"message":500}`), "message"},
		{"undeclared status", stennCompaniesExample(418, `{"message":"teapot"}`), "418"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.e.check(t, "stenn.yaml")
			if err == nil {
				t.Fatal("accepted; want an error")
			}
			// Match the first line only: kin-openapi appends schema and value dumps.
			if head, _, _ := strings.Cut(err.Error(), "\n"); !strings.Contains(head, c.want) {
				t.Errorf("error = %s; want it to mention %q", head, c.want)
			}
		})
	}

	event := readSeedFixture(t, "testdata/stenn/invoice_event.json")
	for _, c := range []struct{ name, schema, doc, want string }{
		{"event with an undocumented type", "Event", strings.Replace(event, "invoice.approved", "invoice.unknown", 1), `"/type"`},
		{"event without data", "Event", `{"id":"evt_1","object":"event","type":"invoice.new"}`, `property "data" is missing`},
		{"event data not an invoice", "Event", strings.Replace(event, `"object": "invoice"`, `"object": "company"`, 1), "/data/object/object"},
		{"document with an unknown file_format", "Document", `{"id":"doc_1","file_format":"docx"}`, "file_format"},
		{"financing session with locale en_US", "FinancingSession", `{"id":"fs_1","locale":"en_US"}`, "locale"},
		{"financing session with status cancelled", "FinancingSession", `{"id":"fs_1","status":"cancelled"}`, "status"},
		{"buyer limit from another bureau", "BuyerLimit", `{"id":"bl_1","business_information_source":"experian"}`, "business_information_source"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := stennVisitJSON(t, stennSchema(t, c.schema), c.doc)
			if err == nil {
				t.Fatal("accepted; want an error")
			}
			// Match the first line only: kin-openapi appends schema and value dumps.
			if head, _, _ := strings.Cut(err.Error(), "\n"); !strings.Contains(head, c.want) {
				t.Errorf("error = %s; want it to mention %q", head, c.want)
			}
		})
	}
}
