package specs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/complykit/complykit-go/internal/contract"
	"github.com/complykit/complykit-go/specs"
)

var (
	validatorsMu sync.Mutex
	validators   = map[string]*contract.Validator{}
)

// validator loads, validates and caches the named spec.
func validator(t *testing.T, name string) *contract.Validator {
	t.Helper()
	validatorsMu.Lock()
	defer validatorsMu.Unlock()
	if v, ok := validators[name]; ok {
		return v
	}
	doc, err := specs.Load(name)
	if err != nil {
		t.Fatalf("specs.Load(%q): %v", name, err)
	}
	v := contract.New(doc)
	validators[name] = v
	return v
}

// example is one literal request/response pair from a vendor's docs.
type example struct {
	name string
	// request
	method, target string // target: path relative to the API root, with query
	header         map[string]string
	body           string
	// response
	status     int
	respHeader map[string]string
	respBody   string
}

// check validates the example's request and, when status is set, its
// response against spec, returning the first violation.
func (e example) check(t *testing.T, spec string) error {
	t.Helper()
	v := validator(t, spec)
	var body *strings.Reader
	if e.body != "" {
		body = strings.NewReader(e.body)
	}
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(e.method, e.target, body)
	} else {
		req = httptest.NewRequest(e.method, e.target, nil)
	}
	for k, val := range e.header {
		req.Header.Set(k, val)
	}
	x, err := v.ValidateRequest(context.Background(), req, req.URL.Path)
	if err != nil {
		return err
	}
	if e.status == 0 {
		return nil
	}
	h := http.Header{}
	for k, val := range e.respHeader {
		h.Set(k, val)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	return x.ValidateResponse(context.Background(), e.status, h, []byte(e.respBody))
}
