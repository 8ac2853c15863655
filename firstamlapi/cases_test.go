package firstamlapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
)

// lastBody returns the body of the fake's last request, decoded.
func lastBody(t *testing.T, srv *firstamltest.Server) map[string]any {
	t.Helper()
	reqs := srv.Requests()
	var body map[string]any
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func caseInput() firstamlapi.CreateCaseInput {
	yes := true
	return firstamlapi.CreateCaseInput{
		OrganizationId:             firstamltest.SampleOrganizationID,
		OfficeId:                   firstamlapi.Ptr(firstamltest.SampleOfficeKey),
		Reference:                  firstamlapi.Ptr("ONB-77"),
		InitialState:               firstamlapi.InitialCaseStateSubmitToFirstAml,
		RunVerificationChecks:      firstamlapi.RunVerificationChecksDoNotRun,
		IndividualVerificationType: &firstamlapi.VerificationTypeInput{VerificationTypeId: firstamltest.SampleVerificationTypeID},
		AssignedUsers:              []string{firstamltest.SampleUserID},
		Lead:                       &firstamlapi.ContactDetailsInput{FullName: firstamlapi.Ptr("Tom Walker"), EmailAddress: firstamlapi.Ptr("tom@yourorg.example")},
		Individuals: []firstamlapi.IndividualDetailsInput{{
			LegalName:     &firstamlapi.NameInput{FirstName: "Mere", LastName: "Tane"},
			EmailAddress:  firstamlapi.Ptr("mere@example.com"),
			IsCaseContact: &yes,
			DateOfBirth:   firstamlapi.Ptr("1984-07-02"),
		}},
		CddLevel:         firstamlapi.Ptr(firstamlapi.CddLevelEnhanced),
		RiskAssessment:   firstamlapi.Ptr(firstamlapi.RiskAssessmentHigh),
		TransactionValue: json.Number("1250000.10"),
		CapturedActivity: firstamlapi.Ptr("Residential sale"),
		Nature:           firstamlapi.Ptr("Returning clients selling family home"),
		Purpose:          firstamlapi.Ptr("Downsizing"),
	}
}

func TestCreateCase(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()

	res, err := c.CreateCase(ctx, caseInput())
	if err != nil {
		t.Fatal(err)
	}
	created, ok := res.(*firstamlapi.CreateCaseResultCaseInformation)
	if !ok {
		t.Fatalf("result = %#v; want the case", res)
	}
	if created.CaseStatus != firstamlapi.CaseStatusInProgress || *created.Reference != "ONB-77" || len(created.Individuals) != 1 {
		t.Errorf("case = %+v", created.CaseSummary)
	}

	// What went on the wire: the documented field names and shapes.
	input := lastBody(t, srv)["variables"].(map[string]any)["input"].(map[string]any)
	raw, _ := json.Marshal(input)
	for _, want := range []string{
		`"transactionValue":1250000.1`, // a JSON number, not a string
		`"runVerificationChecks":"DO_NOT_RUN"`,
		`"initialState":"SUBMIT_TO_FIRST_AML"`,
		`"individualVerificationType":{"verificationTypeId":"` + firstamltest.SampleVerificationTypeID + `"}`,
		`"lead":{"emailAddress":"tom@yourorg.example","fullName":"Tom Walker"}`,
		`"assignedUsers":["` + firstamltest.SampleUserID + `"]`,
		`"cddLevel":"ENHANCED"`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("input %s lacks %s", raw, want)
		}
	}
	for _, unset := range []string{"requestor", "rootEntity", "existingRootEntity", "notes", "name"} {
		if _, ok := input[unset]; ok {
			t.Errorf("unset field %s was sent: %s", unset, raw)
		}
	}
	stored, _ := srv.Case(created.CaseId)
	p := stored.AmlProfile
	if p == nil || p.TransactionValue != "1250000.1" || p.CddLevel != "ENHANCED" || p.RiskAssessment != "HIGH" || p.Nature != "Returning clients selling family home" {
		t.Errorf("the fake's AML profile = %+v", p)
	}
	if stored.Lead == nil || stored.Lead.EmailAddress != "tom@yourorg.example" || !slices.Equal(stored.AssignedUsers, []string{firstamltest.SampleUserID}) ||
		stored.VerificationTypeID != firstamltest.SampleVerificationTypeID || stored.Individuals[0].DateOfBirth != "1984-07-02" {
		t.Errorf("the fake holds %+v", stored)
	}
	// An EIV type waits for the individual's form, even with RUN_ALL.
	if stored.Individuals[0].VerificationStatus != "" {
		t.Errorf("verification status %q before any check ran", stored.Individuals[0].VerificationStatus)
	}

	// RUN_ALL with a type whose checks need nothing from the individual
	// runs them at creation.
	in := caseInput()
	in.RunVerificationChecks = firstamlapi.RunVerificationChecksRunAll
	in.IndividualVerificationType = &firstamlapi.VerificationTypeInput{VerificationTypeId: "vt-screening"}
	res, err = c.CreateCase(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	ran := res.(*firstamlapi.CreateCaseResultCaseInformation)
	if st := ran.Individuals[0].IndividualVerificationChecksStatus; st == nil || *st.Overall != "PASS" {
		t.Errorf("RUN_ALL with a screening type: checks status %+v; want PASS", st)
	}

	// A root entity alone is a case too; nil individuals go as [].
	in = caseInput()
	in.Individuals = nil
	in.InitialState = firstamlapi.InitialCaseStateDraft
	in.RootEntity = &firstamlapi.EntityDetailsInput{LegalName: "Tane Holdings Ltd", EntityType: "COMPANY"}
	res, err = c.CreateCase(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if ent, ok := res.(*firstamlapi.CreateCaseResultCaseInformation); !ok || ent.CaseStatus != firstamlapi.CaseStatusDraft {
		t.Fatalf("entity case = %#v", res)
	} else if stored, _ := srv.Case(ent.CaseId); len(stored.Entities) != 1 || stored.Entities[0].EntityType != "COMPANY" {
		t.Errorf("the fake holds entities %+v", stored.Entities)
	}
}

func TestCreateCaseValidation(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	before := len(srv.Cases())
	for name, tc := range map[string]struct {
		change func(*firstamlapi.CreateCaseInput)
		want   []string
	}{
		"unknown user": {func(in *firstamlapi.CreateCaseInput) {
			in.AssignedUsers = []string{firstamltest.SampleUserID, "usr-nope"}
		}, []string{"assignedUsers/1"}},
		"disabled user": {func(in *firstamlapi.CreateCaseInput) { in.AssignedUsers = []string{"usr-0d13"} }, []string{"assignedUsers/0"}},
		"foreign type":  {func(in *firstamlapi.CreateCaseInput) { in.IndividualVerificationType.VerificationTypeId = "vt-other" }, []string{"individualVerificationType/verificationTypeId"}},
		"no one at all": {func(in *firstamlapi.CreateCaseInput) { in.Individuals = nil }, []string{"individuals", "initialState"}},
		"unknown entity": {func(in *firstamlapi.CreateCaseInput) {
			in.ExistingRootEntity = &firstamlapi.ExistingEntityDetailsInput{EntityId: "ent-nope"}
		}, []string{"existingRootEntity/entityId"}},
		"contact unreachable": {func(in *firstamlapi.CreateCaseInput) { in.Individuals[0].EmailAddress = nil }, []string{"individuals/0/emailAddress"}},
		"both root entities": {func(in *firstamlapi.CreateCaseInput) {
			in.RootEntity = &firstamlapi.EntityDetailsInput{LegalName: "X", EntityType: "TRUST"}
			in.ExistingRootEntity = &firstamlapi.ExistingEntityDetailsInput{EntityId: "ent-11d0"}
		}, []string{"existingRootEntity"}},
	} {
		t.Run(name, func(t *testing.T) {
			in := caseInput()
			tc.change(&in)
			res, err := c.CreateCase(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldPaths(t, res); !slices.Equal(got, tc.want) {
				t.Errorf("field paths = %q; want %q", got, tc.want)
			}
		})
	}
	if n := len(srv.Cases()); n != before {
		t.Errorf("%d cases created by refused inputs", n-before)
	}

	// A TransactionValue that is not a number is refused before anything
	// is sent: the Decimal must go out as a JSON number.
	apiBefore := srv.APIRequests()
	in := caseInput()
	in.TransactionValue = "1,250,000"
	_, err := c.CreateCase(ctx, in)
	var fe *firstamlapi.Error
	if !errors.As(err, &fe) || fe.StatusCode != 0 || !strings.HasPrefix(err.Error(), "firstamlapi: CreateCase: ") {
		t.Errorf("err = %v; want a firstamlapi error before sending", err)
	}
	if n := srv.APIRequests() - apiBefore; n != 0 {
		t.Errorf("%d requests sent for an invalid Decimal", n)
	}
}

func TestCreateCaseForEntities(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	sample := firstamltest.SampleCases()[0]
	res, err := c.CreateCaseForEntities(ctx, firstamlapi.CreateCaseForEntitiesInput{
		OrganizationId:     sample.OrganizationID,
		OfficeId:           firstamlapi.Ptr(sample.OfficeKey),
		InitialState:       firstamlapi.InitialCaseStateDraft,
		ExistingRootEntity: &firstamlapi.ExistingEntityDetailsInput{EntityId: sample.Entities[0].ID},
		Requestor:          &firstamlapi.ContactDetailsInput{FullName: firstamlapi.Ptr("Priya Raman")},
	})
	if err != nil {
		t.Fatal(err)
	}
	created, ok := res.(*firstamlapi.CreateCaseResultCaseInformation)
	if !ok {
		t.Fatalf("result = %#v", res)
	}
	stored, _ := srv.Case(created.CaseId)
	if len(stored.Entities) != 1 || stored.Entities[0].LegalName != sample.Entities[0].LegalName || stored.Requestor.FullName != "Priya Raman" {
		t.Errorf("the fake holds %+v", stored)
	}
	res, err = c.CreateCaseForEntities(ctx, firstamlapi.CreateCaseForEntitiesInput{OrganizationId: firstamltest.SampleNoOfficeOrganizationID, InitialState: firstamlapi.InitialCaseStateDraft})
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldPaths(t, res); !slices.Equal(got, []string{"rootEntity"}) {
		t.Errorf("no entity: field paths %q", got)
	}
}

// caseStatus returns a function that returns the status of a CaseResult,
// or fails.
func caseStatus(t *testing.T) func(firstamlapi.CaseResult, error) string {
	return func(res firstamlapi.CaseResult, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		ci, ok := res.(*firstamlapi.CaseResultCaseInformation)
		if !ok {
			t.Fatalf("result = %#v; want the case", res)
		}
		return ci.CaseStatus
	}
}

// refusal returns a function that returns the first field path and
// message of a refused workflow mutation, or fails.
func refusal(t *testing.T) func(firstamlapi.CaseResult, error) string {
	return func(res firstamlapi.CaseResult, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		ve, ok := res.(*firstamlapi.CaseResultValidationErrors)
		if !ok || len(ve.Errors) == 0 {
			t.Fatalf("result = %#v; want validation errors", res)
		}
		return strings.Join(ve.Errors[0].FieldPath, "/") + ": " + ve.Errors[0].Message
	}
}

func TestCaseWorkflow(t *testing.T) {
	ready := firstamltest.SampleCases()[0]
	ready.ID, ready.Status = "200001", firstamlapi.CaseStatusReadyForReview
	srv := firstamltest.NewServer(t, firstamltest.WithCases(firstamltest.SampleCases()[0], ready))
	c := newClient(t, srv)
	ctx := context.Background()
	status, refused := caseStatus(t), refusal(t)

	// A lite draft: submit, then escalate, as First AML's workflow goes.
	lite := liteInput()
	lite.InitialState = nil
	res, err := c.CreateLiteCase(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	id := res.(*firstamlapi.CreateCaseResultCaseInformation).CaseId
	if got := status(c.SubmitCase(ctx, id)); got != firstamlapi.CaseStatusInProgress {
		t.Errorf("submitted: %s; want IN_PROGRESS", got)
	}
	if got := refused(c.SubmitCase(ctx, id)); !strings.HasPrefix(got, "caseId: The case is IN_PROGRESS") {
		t.Errorf("second submit: %s", got)
	}
	if got := refused(c.CompleteCase(ctx, id)); !strings.Contains(got, "READY_FOR_REVIEW") {
		t.Errorf("complete before review: %s", got)
	}
	if got := status(c.EscalateLiteCase(ctx, id)); got != firstamlapi.CaseStatusInProgress {
		t.Errorf("escalated: %s; want IN_PROGRESS", got)
	}
	if stored, _ := srv.Case(id); stored.Lite {
		t.Error("the escalated case is still lite")
	}
	if got := refused(c.EscalateLiteCase(ctx, id)); !strings.Contains(got, "Only a lite case") {
		t.Errorf("second escalation: %s", got)
	}

	// A standard draft without a reachable contact cannot be submitted.
	res, err = c.CreateCaseForIndividuals(ctx, firstamlapi.CreateCaseForIndividualsInput{
		OrganizationId: firstamltest.SampleNoOfficeOrganizationID,
		Individuals:    []firstamlapi.IndividualDetailsInput{{LegalName: &firstamlapi.NameInput{FirstName: "No", LastName: "Contact"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	draft := res.(*firstamlapi.CreateCaseResultCaseInformation)
	if draft.CaseStatus != firstamlapi.CaseStatusDraft {
		t.Fatalf("status %s; want DRAFT", draft.CaseStatus)
	}
	if got := refused(c.SubmitCase(ctx, draft.CaseId)); !strings.Contains(got, "case contact") {
		t.Errorf("submit without a contact: %s", got)
	}
	if got := refused(c.EscalateLiteCase(ctx, draft.CaseId)); !strings.Contains(got, "Only a lite case") {
		t.Errorf("escalate a standard case: %s", got)
	}

	// First AML's review done: the organization completes the case.
	if got := status(c.CompleteCase(ctx, ready.ID)); got != firstamlapi.CaseStatusCompleted {
		t.Errorf("completed: %s; want COMPLETED", got)
	}
	if got := refused(c.CompleteCase(ctx, "999999")); !strings.HasPrefix(got, "caseId: The case does not exist") {
		t.Errorf("unknown case: %s", got)
	}
}

// Every mutation is sent once: a 503 reaches the caller after one request,
// even with a context marked idempotent, since the mutation may have run.
func TestNewMutationsAreNeverRetried(t *testing.T) {
	srv := firstamltest.NewServer(t, firstamltest.WithScopes("case-management", "read-only", "api-management"))
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.Me(ctx); err != nil { // warm the token
		t.Fatal(err)
	}
	target := firstamlapi.WebhookSubscriptionTargetInput{WebhookSubscriptionId: "whs-1", OrganizationId: firstamltest.SampleOrganizationID}
	for name, call := range map[string]func() error{
		"CreateCase": func() error { _, err := c.CreateCase(ctx, caseInput()); return err },
		"CreateCaseForEntities": func() error {
			_, err := c.CreateCaseForEntities(ctx, firstamlapi.CreateCaseForEntitiesInput{})
			return err
		},
		"EscalateLiteCase":                func() error { _, err := c.EscalateLiteCase(ctx, "1"); return err },
		"SubmitCase":                      func() error { _, err := c.SubmitCase(ctx, "1"); return err },
		"CompleteCase":                    func() error { _, err := c.CompleteCase(ctx, "1"); return err },
		"CreateWebhookSubscription":       func() error { _, err := c.CreateWebhookSubscription(ctx, subscriptionInput()); return err },
		"DeleteWebhookSubscription":       func() error { _, err := c.DeleteWebhookSubscription(ctx, "whs-1"); return err },
		"AddWebhookSubscriptionTarget":    func() error { _, err := c.AddWebhookSubscriptionTarget(ctx, target); return err },
		"RemoveWebhookSubscriptionTarget": func() error { _, err := c.RemoveWebhookSubscriptionTarget(ctx, target); return err },
	} {
		t.Run(name, func(t *testing.T) {
			before := srv.APIRequests()
			srv.Script(firstamltest.APICalls, 1, firstamltest.Status(http.StatusServiceUnavailable))
			err := call()
			var fe *firstamlapi.Error
			if !errors.As(err, &fe) || fe.StatusCode != http.StatusServiceUnavailable || fe.Op != name {
				t.Fatalf("err = %v; want a 503 *firstamlapi.Error of %s", err, name)
			}
			if n := srv.APIRequests() - before; n != 1 {
				t.Errorf("%d requests; a mutation must be sent once", n)
			}
		})
	}
}

func TestOrganizations(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	orgs, err := c.Organizations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := firstamltest.SampleOrganizations()
	if len(orgs) != len(want) {
		t.Fatalf("%d organizations; want %d", len(orgs), len(want))
	}
	users := func(got []firstamlapi.UserDetails, want []firstamltest.User) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("users %+v; want %+v", got, want)
		}
		for i, u := range want {
			g := got[i]
			if g.Id != u.ID || *g.Name != u.FullName || *g.EmailAddress != u.EmailAddress || g.Disabled != u.Disabled || g.CanBeAssignedToCases != u.CanBeAssignedToCases {
				t.Errorf("user %d = %+v; want %+v", i, g, u)
			}
		}
	}
	types := func(got []firstamlapi.VerificationType, def *firstamlapi.VerificationType, want []firstamltest.VerificationType, wantDef string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("verification types %+v; want %+v", got, want)
		}
		for i, vt := range want {
			if got[i].VerificationTypeId != vt.ID || got[i].Name != vt.Name {
				t.Errorf("type %d = %+v; want %+v", i, got[i], vt)
			}
		}
		if (def == nil) != (wantDef == "") || (def != nil && def.VerificationTypeId != wantDef) {
			t.Errorf("default = %+v; want %q", def, wantDef)
		}
	}
	for i, o := range want {
		got := orgs[i]
		if got.OrganizationId != o.ID || got.Name != o.Name || len(got.Offices) != len(o.Offices) {
			t.Fatalf("organization %+v; want %+v", got, o)
		}
		users(got.Users, o.Users)
		types(got.IndividualVerificationTypes, got.DefaultIndividualVerificationType, o.VerificationTypes, o.DefaultVerificationType)
		for j, off := range o.Offices {
			users(got.Offices[j].Users, off.Users)
			types(got.Offices[j].IndividualVerificationTypes, got.Offices[j].DefaultIndividualVerificationType, off.VerificationTypes, off.DefaultVerificationType)
		}
	}
}

func TestRiskAssessment(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	res, err := c.RiskAssessment(ctx, firstamltest.SampleCaseID)
	if err != nil {
		t.Fatal(err)
	}
	ci, ok := res.(*firstamlapi.RiskAssessmentResultCaseInformation)
	if !ok || ci.RiskAssessmentSubmission == nil {
		t.Fatalf("result = %#v; want the sample's submission", res)
	}
	want := firstamltest.SampleCases()[0].RiskAssessment
	got := ci.RiskAssessmentSubmission
	if *got.CompletedOn != want.CompletedOn || *got.Comment != want.Comment || *got.TotalScore != want.TotalScore || len(got.Answers) != len(want.Answers) {
		t.Fatalf("submission = %+v; want %+v", got, want)
	}
	for i, a := range want.Answers {
		g := got.Answers[i]
		if g.Question != a.Question || *g.Score != a.Score || *g.Evaluation != a.Evaluation || (a.Comment == "") != (g.Comment == nil) {
			t.Errorf("answer %d = %+v; want %+v", i, g, a)
		}
	}

	created, err := c.CreateLiteCase(ctx, liteInput())
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.RiskAssessment(ctx, created.(*firstamlapi.CreateCaseResultCaseInformation).CaseId)
	if ci, ok := res.(*firstamlapi.RiskAssessmentResultCaseInformation); err != nil || !ok || ci.RiskAssessmentSubmission != nil {
		t.Errorf("a new case: %#v, %v; want no submission", res, err)
	}
	res, err = c.RiskAssessment(ctx, "999999")
	if _, ok := res.(*firstamlapi.RiskAssessmentResultValidationErrors); err != nil || !ok {
		t.Errorf("unknown case: %#v, %v; want validation errors", res, err)
	}
}

func subscriptionInput() firstamlapi.CreateWebhookSubscriptionInput {
	return firstamlapi.CreateWebhookSubscriptionInput{
		Url:        "https://hooks.example.com/firstaml",
		EventTypes: []string{string(firstamlapi.EventCaseCreated), string(firstamlapi.EventCaseStatusUpdated)},
		Targets:    []firstamlapi.WebhookTargetInput{{OrganizationId: firstamltest.SampleOrganizationID, OfficeId: firstamlapi.Ptr(firstamltest.SampleOfficeKey)}},
	}
}

func TestWebhookSubscriptions(t *testing.T) {
	srv := firstamltest.NewServer(t, firstamltest.WithScopes("api-management"))
	c := newClient(t, srv)
	ctx := context.Background()

	res, err := c.CreateWebhookSubscription(ctx, subscriptionInput())
	if err != nil {
		t.Fatal(err)
	}
	sub, ok := res.(*firstamlapi.CreateWebhookSubscriptionResultWebhookSubscription)
	if !ok || sub.VerifierTokenKey == "" {
		t.Fatalf("result = %#v; want the subscription with its key", res)
	}
	if sub.Url != "https://hooks.example.com/firstaml" || !slices.Equal(sub.EventTypes, subscriptionInput().EventTypes) ||
		len(sub.Targets) != 1 || *sub.Targets[0].OfficeId != firstamltest.SampleOfficeKey {
		t.Errorf("subscription = %+v", sub.WebhookSubscriptionDetails)
	}
	// The returned key verifies what the fake signs with it.
	held := srv.WebhookSubscriptions()
	if len(held) != 1 || held[0].ID != sub.WebhookSubscriptionId || held[0].Key.Base64() != sub.VerifierTokenKey.Reveal() {
		t.Fatalf("the fake holds %+v", held)
	}
	payload := firstamltest.CaseCreatedPayload(firstamltest.SampleCaseID, firstamltest.SampleOfficeKey)
	if err := firstamlapi.VerifySignature(payload, held[0].Key.Sign(payload), sub.VerifierTokenKey.Reveal()); err != nil {
		t.Errorf("the returned key does not verify a delivery: %v", err)
	}

	// Targets: the whole other organization, then an office, then back.
	id := sub.WebhookSubscriptionId
	add := func(org string, office *string) firstamlapi.WebhookSubscriptionResult {
		t.Helper()
		r, err := c.AddWebhookSubscriptionTarget(ctx, firstamlapi.WebhookSubscriptionTargetInput{WebhookSubscriptionId: id, OrganizationId: org, OfficeId: office})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := add(firstamltest.SampleNoOfficeOrganizationID, nil)
	if s, ok := r.(*firstamlapi.WebhookSubscriptionResultWebhookSubscription); !ok || len(s.Targets) != 2 || s.Targets[1].OfficeId != nil {
		t.Errorf("after adding an organization: %#v", r)
	}
	if ve, ok := add(firstamltest.SampleNoOfficeOrganizationID, nil).(*firstamlapi.WebhookSubscriptionResultValidationErrors); !ok || !strings.Contains(ve.Errors[0].Message, "already") {
		t.Errorf("adding it twice: %#v", ve)
	}
	if ve, ok := add(firstamltest.SampleOrganizationID, firstamlapi.Ptr("not-an-office")).(*firstamlapi.WebhookSubscriptionResultValidationErrors); !ok || !slices.Equal(ve.Errors[0].FieldPath, []string{"officeId"}) {
		t.Errorf("an unknown office: %#v", ve)
	}
	r, err = c.RemoveWebhookSubscriptionTarget(ctx, firstamlapi.WebhookSubscriptionTargetInput{WebhookSubscriptionId: id, OrganizationId: firstamltest.SampleNoOfficeOrganizationID})
	if s, ok := r.(*firstamlapi.WebhookSubscriptionResultWebhookSubscription); err != nil || !ok || len(s.Targets) != 1 {
		t.Errorf("after removing it: %#v, %v", r, err)
	}

	del, err := c.DeleteWebhookSubscription(ctx, id)
	if d, ok := del.(*firstamlapi.DeleteWebhookSubscriptionResultDeletedWebhookSubscription); err != nil || !ok || d.WebhookSubscriptionId != id {
		t.Errorf("delete: %#v, %v", del, err)
	}
	del, err = c.DeleteWebhookSubscription(ctx, id)
	if ve, ok := del.(*firstamlapi.DeleteWebhookSubscriptionResultValidationErrors); err != nil || !ok || !slices.Equal(ve.Errors[0].FieldPath, []string{"webhookSubscriptionId"}) {
		t.Errorf("delete twice: %#v, %v", del, err)
	}
	if n := len(srv.WebhookSubscriptions()); n != 0 {
		t.Errorf("%d subscriptions left", n)
	}

	// http is not supported; unknown event types are named by index.
	bad := subscriptionInput()
	bad.Url = "http://hooks.example.com/firstaml"
	bad.EventTypes = []string{"CaseCreated", "CaseDeleted"}
	res, err = c.CreateWebhookSubscription(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	ve, ok := res.(*firstamlapi.CreateWebhookSubscriptionResultValidationErrors)
	if !ok || len(ve.Errors) != 2 || !slices.Equal(ve.Errors[0].FieldPath, []string{"url"}) || !slices.Equal(ve.Errors[1].FieldPath, []string{"eventTypes", "1"}) {
		t.Errorf("bad subscription: %#v", res)
	}
	res, _ = c.CreateWebhookSubscription(ctx, firstamlapi.CreateWebhookSubscriptionInput{Url: "https://hooks.example.com/x"})
	if ve, ok := res.(*firstamlapi.CreateWebhookSubscriptionResultValidationErrors); !ok || len(ve.Errors) != 2 {
		t.Errorf("nil event types and targets: %#v; want two validation errors, not a 400", res)
	}

	// Without api-management the mutations are refused.
	cm := firstamltest.NewServer(t)
	_, err = newClient(t, cm).CreateWebhookSubscription(ctx, subscriptionInput())
	var fe *firstamlapi.Error
	if !errors.As(err, &fe) || len(fe.Errors) != 1 || fe.Errors[0].Code != "FORBIDDEN" || !strings.Contains(fe.Errors[0].Message, "api-management") {
		t.Errorf("without api-management: %v", err)
	}
}
