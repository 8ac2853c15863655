package specs_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// The specs drive the wire: every operation of every REST spec has a typed
// method (or, for the token and authorize endpoints, an SDK flow), and what
// that method sends is exactly the spec's method and path, as the fake's
// request log records it. An operation added to a spec without a typed
// method, or a method that drifts from its spec, fails here.

// exercise runs the SDK for one operation; the test then matches the
// requests it caused against the spec.
type exercise func(t *testing.T) error

// opCase is one provider: its spec, the fake's request log, and how the SDK
// exercises each operationId.
type opCase struct {
	spec     string
	requests func() []fakeserver.Request
	ops      map[string]exercise
	// url checks, for operations the SDK does not send itself (the
	// authorize endpoint, which the user's browser visits), the URL the
	// SDK builds for it.
	urls map[string]func(t *testing.T) string
}

func TestEveryOperationHasATypedMethodThatSendsTheSpecsMethodAndPath(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []opCase{stemsOps(t, ctx), stennOps(t, ctx), cloudCompliOps(t, ctx), firstAMLOps(t, ctx)} {
		t.Run(tc.spec, func(t *testing.T) {
			v := validator(t, tc.spec)
			doc := v.Doc()
			var ids []string
			for _, item := range doc.Paths.Map() {
				for _, op := range item.Operations() {
					ids = append(ids, op.OperationID)
				}
			}
			sort.Strings(ids)
			for _, id := range ids {
				if _, ok := tc.urls[id]; ok {
					continue
				}
				if _, ok := tc.ops[id]; !ok {
					t.Errorf("operation %s has no typed method exercised here: add one (and a line to this test)", id)
				}
			}
			for id := range tc.ops {
				if !contains(ids, id) {
					t.Errorf("the test exercises %s, which %s does not have", id, tc.spec)
				}
			}
			for _, id := range ids {
				if build, ok := tc.urls[id]; ok {
					u, err := url.Parse(build(t))
					if err != nil {
						t.Fatalf("%s: %v", id, err)
					}
					rt, _, err := v.FindRoute(http.MethodGet, u.EscapedPath())
					if err != nil || rt.Operation.OperationID != id {
						t.Errorf("%s: the SDK builds %s, which the spec does not route to %s (%v)", id, u.EscapedPath(), id, err)
					}
					continue
				}
				run, ok := tc.ops[id]
				if !ok {
					continue
				}
				before := len(tc.requests())
				if err := run(t); err != nil {
					t.Errorf("%s: %v", id, err)
					continue
				}
				sent := tc.requests()[before:]
				if len(sent) == 0 {
					// requestToken is exercised by the first call of a
					// fresh client; look at the whole log for it.
					sent = tc.requests()
				}
				matched := false
				for _, r := range sent {
					rt, _, err := v.FindRoute(r.Method, r.Path)
					if err != nil {
						t.Errorf("%s: the SDK sent %s %s, which no operation of %s has: %v", id, r.Method, r.Path, tc.spec, err)
						continue
					}
					if rt.Operation.OperationID == id {
						matched = true
						if r.Status >= 400 {
							t.Errorf("%s: %s %s answered %d: %s", id, r.Method, r.Path, r.Status, r.Error)
						}
					}
				}
				if !matched {
					var got []string
					for _, r := range sent {
						got = append(got, r.Method+" "+r.Path)
					}
					t.Errorf("%s: the SDK sent %v, none of them the spec's %s", id, got, id)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func stemsOps(t *testing.T, ctx context.Context) opCase {
	srv := stemstest.NewServer(t)
	c, err := stemsapi.NewClient(srv.URL,
		stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword),
		stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany(stemstest.DefaultCompany))
	if err != nil {
		t.Fatal(err)
	}
	hazardID, eventID := "1001", "2001" // the fake's sample data
	return opCase{
		spec:     "stems.yaml",
		requests: srv.Requests,
		ops: map[string]exercise{
			"requestToken": func(*testing.T) error { _, err := c.Token(ctx); return err },
			"listHazards":  func(*testing.T) error { _, err := c.ListHazards(ctx); return err },
			"createHazard": func(*testing.T) error {
				_, err := c.CreateHazard(ctx, stemsapi.Hazard{"title": "Loose handrail"})
				return err
			},
			"updateHazard": func(*testing.T) error {
				_, err := c.UpdateHazard(ctx, stemsapi.Hazard{"id": 1001, "title": "Wet floor, mopped"})
				return err
			},
			"listHazardApprovalData": func(*testing.T) error { _, err := c.ListHazardApprovalData(ctx); return err },
			"getHazardApprovalData": func(*testing.T) error {
				_, err := c.GetHazardApprovalData(ctx, hazardID)
				return err
			},
			"createHazardForApproval": func(*testing.T) error {
				h := &stemsapi.HazardApproval{}
				h.Set("title", "Blocked fire exit")
				_, err := c.CreateHazardForApproval(ctx, h)
				return err
			},
			"updateHazardForApproval": func(*testing.T) error {
				h := &stemsapi.HazardApproval{}
				h.Set("id", 1003)
				h.Set("title", "Blocked fire exit, cleared")
				_, err := c.UpdateHazardForApproval(ctx, h)
				return err
			},
			"createEventRequiringApproval": func(*testing.T) error {
				_, err := c.CreateEventRequiringApproval(ctx, event())
				return err
			},
			"updateEventRequiringApproval": func(*testing.T) error {
				_, err := c.UpdateEventRequiringApproval(ctx, eventID, event())
				return err
			},
			"listEventForms": func(*testing.T) error { _, err := c.ListEventForms(ctx, eventID); return err },
			"getEventLookup": func(*testing.T) error { _, err := c.GetEventLookup(ctx); return err },
		},
		urls: map[string]func(*testing.T) string{
			"authorize": func(t *testing.T) string {
				flow, err := stemsapi.NewAuthCodeFlow(srv.ClientID, srv.ClientSecret, "https://app.example/callback")
				if err != nil {
					t.Fatal(err)
				}
				u, _ := flow.AuthCodeURL("state-1")
				if !strings.HasPrefix(u, stemsapi.DefaultAuthURL+"?") {
					t.Errorf("authorize URL %s is not under DefaultAuthURL", u)
				}
				return u
			},
		},
	}
}

// event is an event with the one field the fake requires.
func event() *stemsapi.EventRecord {
	var form stemsapi.EventFormId
	if err := form.FromNumericId(1); err != nil {
		panic(err)
	}
	sub := "Forklift clipped a racking upright"
	return &stemsapi.EventRecord{EventDetails: &stemsapi.EventDetails{EventFormId: &form, Subheading: &sub}}
}

func stennOps(t *testing.T, ctx context.Context) opCase {
	srv := stenntest.NewServer(t)
	c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, stennapi.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return opCase{
		spec:     "stenn.yaml",
		requests: srv.Requests,
		ops: map[string]exercise{
			"requestToken":  func(*testing.T) error { _, err := c.Token(ctx); return err },
			"listCompanies": func(*testing.T) error { _, err := c.ListCompanies(ctx); return err },
		},
	}
}

func cloudCompliOps(t *testing.T, ctx context.Context) opCase {
	srv := cloudcomplitest.NewServer(t)
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	project, form := cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName
	var entryID string
	return opCase{
		spec:     "cloudcompli.yaml",
		requests: srv.Requests,
		ops: map[string]exercise{
			"requestToken": func(*testing.T) error { _, err := c.Token(ctx); return err },
			"getUser":      func(*testing.T) error { _, err := c.GetUser(ctx); return err },
			"getCompany":   func(*testing.T) error { _, err := c.GetCompany(ctx); return err },
			"listProjects": func(*testing.T) error { _, err := c.ListProjects(ctx); return err },
			"getClassification": func(*testing.T) error {
				_, err := c.GetClassification(ctx, cloudcomplitest.SampleClassificationID)
				return err
			},
			"getForm": func(*testing.T) error { _, err := c.GetForm(ctx, form); return err },
			"getPrepopulateData": func(*testing.T) error {
				_, err := c.GetPrepopulateData(ctx, project, form)
				return err
			},
			"submitFormEntry": func(*testing.T) error {
				e, err := c.SubmitFormEntry(ctx, project, form, cloudcompliapi.FormEntryData{"inspector": "Ivy"})
				if err == nil {
					entryID = e.Id
				}
				return err
			},
			"attachPhoto": func(t *testing.T) error {
				if entryID == "" {
					e, err := c.SubmitFormEntry(ctx, project, form, cloudcompliapi.FormEntryData{"inspector": "Ivy"})
					if err != nil {
						return err
					}
					entryID = e.Id
				}
				_, err := c.AttachPhoto(ctx, project, form, entryID, cloudcompliapi.PhotoAttachment{Image: []byte("\xff\xd8\xff"), MIMEType: "image/jpeg"})
				return err
			},
		},
		urls: map[string]func(*testing.T) string{
			"authorize": func(t *testing.T) string {
				flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, cloudcompliapi.AuthCodeApp{
					ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, RedirectURL: "https://app.example/callback"})
				if err != nil {
					t.Fatal(err)
				}
				u, _ := flow.AuthCodeURL("state-1")
				return u
			},
		},
	}
}

func firstAMLOps(t *testing.T, ctx context.Context) opCase {
	srv := firstamltest.NewServer(t)
	c, err := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()),
		option.WithUserAgent("complykit-specs-test/1.0"))
	if err != nil {
		t.Fatal(err)
	}
	return opCase{
		spec:     "firstaml.yaml",
		requests: srv.Requests,
		ops: map[string]exercise{
			"requestToken": func(*testing.T) error { _, err := c.Token(ctx); return err },
			"graphql":      func(*testing.T) error { _, err := c.Me(ctx); return err },
			// contentsUrl comes from a GraphQL result, so DownloadDocument
			// sends the path First AML gave, which the fake's is.
			"downloadDocument": func(*testing.T) error {
				_, err := c.DownloadDocument(ctx, srv.URL+"/documents/"+firstamltest.SampleDocumentID, io.Discard)
				return err
			},
		},
	}
}

// Stems' token and authorize endpoints live on Stems Accounts, whose URLs
// stemsapi exports as constants: they must be the spec's, server and path.
func TestStemsAccountsURLsAreTheSpecs(t *testing.T) {
	doc := validator(t, "stems.yaml").Doc()
	for id, want := range map[string]string{"requestToken": stemsapi.DefaultTokenURL, "authorize": stemsapi.DefaultAuthURL} {
		found := false
		for path, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				if op.OperationID != id {
					continue
				}
				found = true
				if op.Servers == nil || len(*op.Servers) != 1 {
					t.Fatalf("%s: want one operation-level server", id)
				}
				if got := strings.TrimRight((*op.Servers)[0].URL, "/") + path; got != want {
					t.Errorf("%s: the spec says %s; stemsapi says %s", id, got, want)
				}
			}
		}
		if !found {
			t.Errorf("stems.yaml has no %s", id)
		}
	}
}
