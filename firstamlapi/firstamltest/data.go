package firstamltest

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"net/url"
	"strings"
)

// Organization is an organization the fake's API client can access.
type Organization struct {
	// ID is the organizationId, a 32-hex string in First AML's example.
	ID   string
	Name string
	// Offices are the organization's offices; none is allowed.
	Offices []Office
	// Users are the organization's users (me's users); the create
	// mutations accept the IDs of those who are enabled and can be
	// assigned to cases in assignedUsers.
	Users []User
	// VerificationTypes are its individualVerificationTypes;
	// DefaultVerificationType is the ID of its default, "" for none.
	VerificationTypes       []VerificationType
	DefaultVerificationType string
}

// Office is an office of an organization.
type Office struct {
	// Key is the office key (a GUID), the officeId of the create inputs.
	Key  string
	Name string
	// Users, VerificationTypes and DefaultVerificationType are the
	// office's, as for Organization.
	Users                   []User
	VerificationTypes       []VerificationType
	DefaultVerificationType string
}

// VerificationType is a kind of verification an organization or office
// may order (individualVerificationTypes).
type VerificationType struct {
	// ID is the verificationTypeId.
	ID string
	// Name is the type's display name.
	Name string
	// RunsAtCreation marks a type whose checks need nothing from the
	// individual (screening only): createCase with runVerificationChecks
	// RUN_ALL runs them at once, and the fake passes every individual who
	// needs verification. Other types wait for the individual's identity
	// verification form, as First AML documents for RUN_ALL.
	RunsAtCreation bool
}

// Case is a case held by the fake.
type Case struct {
	// ID is the caseId; the fake numbers the cases it creates.
	ID             string
	OrganizationID string
	// OfficeKey is the case's office, "" if its organization has none.
	OfficeKey string
	Reference string
	Name      string
	// Status is caseStatus, e.g. "IN_PROGRESS" or "DRAFT".
	Status string
	// Type is caseType; "" is null.
	Type string
	// TimeReceived is an RFC 3339 time (the real format is not documented).
	TimeReceived string
	Notes        string
	Requestor    *User
	Lead         *User
	Individuals  []Individual
	Entities     []Entity
	// Lite marks a case created by createLiteCase; only a lite case can
	// be escalated (escalateLiteCase), which clears it.
	Lite bool
	// AssignedUsers are the User IDs assigned to the case.
	AssignedUsers []string
	// VerificationTypeID is the case's individualVerificationType, ""
	// for the organization's default.
	VerificationTypeID string
	// AmlProfile is the case's amlProfile; nil is null.
	AmlProfile *AmlProfile
	// RiskAssessment is the case's riskAssessmentSubmission; nil until
	// one is submitted.
	RiskAssessment *RiskAssessmentSubmission
	// Documents are the case's own documents.
	Documents []Document
}

// User is a user of an organization or office (me's users), or a case's
// requestor or lead (who may be given by contact details only, with no
// ID).
type User struct {
	// ID is the user's id, what assignedUsers holds.
	ID string
	// FullName is served as User.name and as CaseUser.fullName.
	FullName string
	// EmailAddress is the user's email address.
	EmailAddress string
	// Disabled users cannot be assigned to cases.
	Disabled bool
	// CanBeAssignedToCases is false for users who may not be assigned.
	CanBeAssignedToCases bool
}

// AmlProfile is a case's AML profile, as createCase sets it.
type AmlProfile struct {
	// CapturedActivity, CddLevel and RiskAssessment are as given; "" is
	// null.
	CapturedActivity string
	CddLevel         string
	RiskAssessment   string
	// TransactionValue is the Decimal's digits, e.g. "450000.10"; "" is
	// null.
	TransactionValue string
	// Purpose is as given; "" is null.
	Purpose string
	// Nature is kept but not served: CaseInformation.amlProfile has no
	// nature field in any source.
	Nature string
}

// RiskAssessmentSubmission is a submitted risk assessment questionnaire.
type RiskAssessmentSubmission struct {
	// CompletedOn is an RFC 3339 time (the real format is not documented).
	CompletedOn string
	// Comment is the assessor's overall comment; "" is null.
	Comment string
	// TotalScore is the questionnaire's total.
	TotalScore float64
	// Answers are the answers, one per question.
	Answers []RiskAssessmentAnswer
}

// RiskAssessmentAnswer is one answer of a questionnaire.
type RiskAssessmentAnswer struct {
	// Question is the question asked.
	Question string
	// Score is the answer's score.
	Score float64
	// Comment and Evaluation are as given; "" is null.
	Comment    string
	Evaluation string
}

// Document is a document with its files, e.g. a driver licence with its
// front and back.
type Document struct {
	// Type is the document type, e.g. "DRIVER_LICENCE" (values not public).
	Type string
	// Files are the document's files, e.g. its front and back.
	Files []File
}

// File is one file of a document. The fake serves its Contents at
// contentsUrl (GET /documents/{DocumentID} with the bearer token), or, if
// RedirectURL is set, answers 302 to it, as First AML may redirect to
// storage on another host.
type File struct {
	// DocumentID is the file's documentId and the last segment of its
	// contentsUrl; unique within the fake.
	DocumentID string
	// Type, Extension and Title are fileType, fileExtension, fileTitle.
	Type, Extension, Title string
	// Contents is what the fake serves at contentsUrl.
	Contents []byte
	// RedirectURL, if set, is where contentsUrl redirects (302) instead.
	RedirectURL string
}

// Individual is a person on a case.
type Individual struct {
	ID            string
	LegalName     *Name
	PreferredName *Name
	EmailAddress  string
	PhoneNumber   string
	IsCaseContact bool
	// RequiresCDD says whether the individual must be verified (the
	// needsVerification input; a lite case's individual always is).
	RequiresCDD bool
	// VerificationStatus is individualVerificationChecksStatus.overall,
	// e.g. "PASS"; "" is null. An individual who requires CDD and has not
	// passed gets a ValidUrl verification link, anyone else an InvalidUrl.
	VerificationStatus string
	// DateOfBirth is as given, e.g. "1990-04-01"; "" is null.
	DateOfBirth string
	// Documents are the individual's documents.
	Documents []Document
}

// Name is a person's name; the fake derives fullName.
type Name struct {
	First, Middle, Last string
}

// Entity is a non-person party on a case.
type Entity struct {
	ID        string
	LegalName string
	// EntityType and RegistrationNumber are as createCase's rootEntity
	// gave them.
	EntityType, RegistrationNumber string
	// Documents are the entity's documents.
	Documents []Document
}

// ValidationError is one business validation failure a mutation reports:
// a message and the input field it concerns.
type ValidationError struct {
	Message string
	// FieldPath is the path into the mutation's input, in First AML's
	// documented shape: field names and list indices, all strings, e.g.
	// []string{"individuals", "1", "emailAddress"}
	// (https://docs.firstaml.com/docs/validation/). Nil is null: a failure
	// that concerns no single field.
	FieldPath []string
}

// Identifiers of the sample data.
const (
	// SampleOrganizationID has two offices (the docs' example organization).
	SampleOrganizationID = "abc1234567894067a56d52412e600e7c"
	// SampleOfficeKey is its Auckland office.
	SampleOfficeKey = "abc456789-3476-4cf6-8491-bdd1272cf015"
	// SampleNoOfficeOrganizationID has no offices.
	SampleNoOfficeOrganizationID = "5f0c2a1b3e444f6a8c9d0e1f2a3b4c5d"
	// SampleCaseID is a case in progress at SampleOrganizationID.
	SampleCaseID = "100234"
	// SampleUserID is Priya Raman, a user of SampleOrganizationID and its
	// Auckland office who can be assigned to cases.
	SampleUserID = "usr-5e8c"
	// SampleVerificationTypeID is the electronic identity verification
	// type, the default of SampleOrganizationID.
	SampleVerificationTypeID = "vt-eiv"
	// SampleDocumentID is the front of the sample case contact's driver
	// licence, a small PNG served at its contentsUrl.
	SampleDocumentID = "doc-4410"
)

// samplePNG is a 1x1 PNG, the contents of the sample documents.
var samplePNG = func() []byte {
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	if err := png.Encode(&b, img); err != nil {
		panic("firstamltest: " + err.Error())
	}
	return b.Bytes()
}()

// SampleOrganizations returns the organizations the fake serves by
// default: the docs' example organization with its Sydney and Auckland
// offices, and one without offices.
func SampleOrganizations() []Organization {
	eiv := []VerificationType{{ID: SampleVerificationTypeID, Name: "Electronic identity verification"}, {ID: "vt-screening", Name: "Screening only", RunsAtCreation: true}}
	priya := User{ID: SampleUserID, FullName: "Priya Raman", EmailAddress: "priya@yourorg.example", CanBeAssignedToCases: true}
	tom := User{ID: "usr-2b71", FullName: "Tom Walker", EmailAddress: "tom@yourorg.example", CanBeAssignedToCases: true}
	former := User{ID: "usr-0d13", FullName: "Former Employee", EmailAddress: "gone@yourorg.example", Disabled: true}
	return []Organization{
		{ID: SampleOrganizationID, Name: "Your org inc.", Offices: []Office{
			{Key: "abc12345-3476-4cf6-8491-bdd1272cf015", Name: "Sydney", Users: []User{tom}, VerificationTypes: eiv[1:], DefaultVerificationType: "vt-screening"},
			{Key: SampleOfficeKey, Name: "Auckland", Users: []User{priya, tom}, VerificationTypes: eiv, DefaultVerificationType: SampleVerificationTypeID},
		}, Users: []User{priya, tom, former}, VerificationTypes: eiv, DefaultVerificationType: SampleVerificationTypeID},
		{ID: SampleNoOfficeOrganizationID, Name: "Solo Conveyancing Ltd",
			Users:             []User{{ID: "usr-solo", FullName: "Sam Solo", EmailAddress: "sam@solo.example", CanBeAssignedToCases: true}},
			VerificationTypes: eiv[:1]},
	}
}

// SampleCases returns the case the fake serves by default: SampleCaseID, in
// progress at the Auckland office, with a verified case contact, a second
// individual still to verify, and a company.
func SampleCases() []Case {
	return []Case{{
		ID:             SampleCaseID,
		OrganizationID: SampleOrganizationID,
		OfficeKey:      SampleOfficeKey,
		Reference:      "ONB-2026-0042",
		Name:           "Purchase of 12 Queen Street",
		Status:         "IN_PROGRESS",
		Type:           "INDIVIDUALS",
		TimeReceived:   "2026-02-27T21:14:09Z",
		Notes:          "Settlement due in March.",
		Requestor:      &User{FullName: "Priya Raman", EmailAddress: "priya@yourorg.example"},
		Lead:           &User{FullName: "Tom Walker", EmailAddress: "tom@yourorg.example"},
		Individuals: []Individual{
			{ID: "ind-7f3a", LegalName: &Name{First: "Aroha", Middle: "Mere", Last: "Ngata"}, PreferredName: &Name{First: "Aroha", Last: "Ngata"},
				EmailAddress: "aroha@example.com", PhoneNumber: "+64 21 555 0142", IsCaseContact: true, RequiresCDD: true, VerificationStatus: "PASS",
				Documents: []Document{{Type: "DRIVER_LICENCE", Files: []File{
					{DocumentID: SampleDocumentID, Type: "IMAGE", Extension: "png", Title: "Driver licence (front)", Contents: samplePNG},
					{DocumentID: "doc-4411", Type: "IMAGE", Extension: "png", Title: "Driver licence (back)", Contents: samplePNG},
				}}}},
			{ID: "ind-9c21", LegalName: &Name{First: "James", Last: "Ngata"}, EmailAddress: "james@example.com", RequiresCDD: true},
		},
		Entities:      []Entity{{ID: "ent-11d0", LegalName: "Ngata Family Trust"}},
		AssignedUsers: []string{SampleUserID},
		RiskAssessment: &RiskAssessmentSubmission{CompletedOn: "2026-02-28T02:30:00Z", Comment: "Low risk: long-standing clients.", TotalScore: 3,
			Answers: []RiskAssessmentAnswer{
				{Question: "Is any party a politically exposed person?", Score: 0, Evaluation: "LOW"},
				{Question: "Is the source of funds verified?", Score: 1, Comment: "Bank statement provided.", Evaluation: "LOW"},
				{Question: "Is the transaction consistent with the client's profile?", Score: 2, Evaluation: "MEDIUM"},
			}},
	}}
}

func cloneOrgs(in []Organization) []Organization {
	out := make([]Organization, len(in))
	for i, o := range in {
		offices := make([]Office, len(o.Offices))
		for j, off := range o.Offices {
			off.Users = append([]User(nil), off.Users...)
			off.VerificationTypes = append([]VerificationType(nil), off.VerificationTypes...)
			offices[j] = off
		}
		o.Offices = offices
		o.Users = append([]User(nil), o.Users...)
		o.VerificationTypes = append([]VerificationType(nil), o.VerificationTypes...)
		out[i] = o
	}
	return out
}

func cloneDocuments(in []Document) []Document {
	if in == nil {
		return nil
	}
	out := make([]Document, len(in))
	for i, d := range in {
		files := make([]File, len(d.Files))
		for j, f := range d.Files {
			f.Contents = append([]byte(nil), f.Contents...)
			files[j] = f
		}
		d.Files = files
		out[i] = d
	}
	return out
}

func cloneCases(in []Case) []Case {
	out := make([]Case, len(in))
	for i, c := range in {
		out[i] = cloneCase(c)
	}
	return out
}

func cloneCase(c Case) Case {
	if c.Requestor != nil {
		u := *c.Requestor
		c.Requestor = &u
	}
	if c.Lead != nil {
		u := *c.Lead
		c.Lead = &u
	}
	inds := make([]Individual, len(c.Individuals))
	for i, ind := range c.Individuals {
		if ind.LegalName != nil {
			n := *ind.LegalName
			ind.LegalName = &n
		}
		if ind.PreferredName != nil {
			n := *ind.PreferredName
			ind.PreferredName = &n
		}
		ind.Documents = cloneDocuments(ind.Documents)
		inds[i] = ind
	}
	c.Individuals = inds
	ents := make([]Entity, len(c.Entities))
	for i, e := range c.Entities {
		e.Documents = cloneDocuments(e.Documents)
		ents[i] = e
	}
	c.Entities = ents
	c.AssignedUsers = append([]string(nil), c.AssignedUsers...)
	c.Documents = cloneDocuments(c.Documents)
	if c.AmlProfile != nil {
		p := *c.AmlProfile
		c.AmlProfile = &p
	}
	if c.RiskAssessment != nil {
		ra := *c.RiskAssessment
		ra.Answers = append([]RiskAssessmentAnswer(nil), ra.Answers...)
		c.RiskAssessment = &ra
	}
	return c
}

// Cases returns a copy of the cases the fake holds, seeded and created.
func (s *Server) Cases() []Case {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneCases(s.cases)
}

// Case returns a copy of one case.
func (s *Server) Case(id string) (Case, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cases {
		if c.ID == id {
			return cloneCase(c), true
		}
	}
	return Case{}, false
}

// The functions below present the data as GraphQL objects: maps keyed by
// the schema's field names, which the executor selects from. A missing key
// is null. Union members carry __typename.

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// caseObject presents c; base is the fake's URL as the client reached it,
// for the links.
func (s *Server) caseObject(c Case, base string) map[string]any {
	obj := map[string]any{
		"__typename":   "CaseInformation",
		"caseId":       c.ID,
		"reference":    nullable(c.Reference),
		"caseStatus":   c.Status,
		"caseType":     nullable(c.Type),
		"name":         nullable(c.Name),
		"timeReceived": nullable(c.TimeReceived),
		"notes":        nullable(c.Notes),
		"urls":         map[string]any{"view": base + "/app/cases/" + c.ID},
	}
	if c.Requestor != nil || c.Lead != nil {
		obj["caseDetails"] = map[string]any{"caseRequestor": userObject(c.Requestor), "caseLead": userObject(c.Lead)}
	}
	for _, o := range s.orgs {
		if o.ID != c.OrganizationID {
			continue
		}
		obj["organization"] = orgObject(o)
		for _, off := range o.Offices {
			if off.Key == c.OfficeKey {
				obj["office"] = officeObject(off)
			}
		}
	}
	inds := make([]any, len(c.Individuals))
	for i, ind := range c.Individuals {
		inds[i] = s.individualObject(c.ID, ind, base)
	}
	obj["individuals"] = inds
	ents := make([]any, len(c.Entities))
	for i, e := range c.Entities {
		ents[i] = map[string]any{"legalName": nullable(e.LegalName), "urls": map[string]any{"view": base + "/app/cases/" + c.ID + "/entities/" + e.ID},
			"documents": documentsObject(e.Documents, base)}
	}
	obj["entities"] = ents
	obj["documents"] = documentsObject(c.Documents, base)
	if p := c.AmlProfile; p != nil {
		var value any
		if p.TransactionValue != "" {
			value = json.Number(p.TransactionValue)
		}
		obj["amlProfile"] = map[string]any{"capturedActivity": nullable(p.CapturedActivity), "cddLevel": nullable(p.CddLevel),
			"riskAssessment": nullable(p.RiskAssessment), "transactionValue": value, "purpose": nullable(p.Purpose)}
	}
	if ra := c.RiskAssessment; ra != nil {
		answers := make([]any, len(ra.Answers))
		for i, a := range ra.Answers {
			answers[i] = map[string]any{"question": a.Question, "score": a.Score, "comment": nullable(a.Comment), "evaluation": nullable(a.Evaluation)}
		}
		obj["riskAssessmentSubmission"] = map[string]any{"completedOn": nullable(ra.CompletedOn), "comment": nullable(ra.Comment),
			"totalScore": ra.TotalScore, "answers": answers}
	}
	return obj
}

// documentsPath is where the fake serves document files: each file's
// contentsUrl is the fake's URL, this path and the file's DocumentID
// (specs/firstaml.yaml, downloadDocument; the real path is not public).
const documentsPath = "/documents/"

// documentsObject presents documents; each file's contentsUrl is on the
// fake's origin.
func documentsObject(docs []Document, base string) []any {
	out := make([]any, len(docs))
	for i, d := range docs {
		files := make([]any, len(d.Files))
		for j, f := range d.Files {
			files[j] = map[string]any{"documentId": f.DocumentID, "fileType": nullable(f.Type), "fileExtension": nullable(f.Extension),
				"fileTitle": nullable(f.Title), "contentsUrl": base + documentsPath + url.PathEscape(f.DocumentID)}
		}
		out[i] = map[string]any{"type": nullable(d.Type), "files": files}
	}
	return out
}

func userObject(u *User) any {
	if u == nil {
		return nil
	}
	return map[string]any{"fullName": nullable(u.FullName), "emailAddress": nullable(u.EmailAddress)}
}

func orgObject(o Organization) map[string]any {
	offices := make([]any, len(o.Offices))
	for i, off := range o.Offices {
		offices[i] = officeObject(off)
	}
	obj := map[string]any{"organizationId": o.ID, "name": o.Name, "offices": offices}
	addPeople(obj, o.Users, o.VerificationTypes, o.DefaultVerificationType)
	return obj
}

func officeObject(off Office) map[string]any {
	obj := map[string]any{"key": off.Key, "name": off.Name}
	addPeople(obj, off.Users, off.VerificationTypes, off.DefaultVerificationType)
	return obj
}

// addPeople adds the users and verification types of an organization or
// office.
func addPeople(obj map[string]any, users []User, types []VerificationType, def string) {
	us := make([]any, len(users))
	for i, u := range users {
		us[i] = map[string]any{"id": u.ID, "name": nullable(u.FullName), "emailAddress": nullable(u.EmailAddress),
			"disabled": u.Disabled, "canBeAssignedToCases": u.CanBeAssignedToCases}
	}
	obj["users"] = us
	vts := make([]any, len(types))
	for i, vt := range types {
		vts[i] = map[string]any{"verificationTypeId": vt.ID, "name": vt.Name}
		if vt.ID == def {
			obj["defaultIndividualVerificationType"] = vts[i]
		}
	}
	obj["individualVerificationTypes"] = vts
}

func nameObject(n *Name) any {
	if n == nil {
		return nil
	}
	full := strings.Join(strings.Fields(n.First+" "+n.Middle+" "+n.Last), " ")
	return map[string]any{"firstName": nullable(n.First), "middleName": nullable(n.Middle), "lastName": nullable(n.Last), "fullName": nullable(full)}
}

func (s *Server) individualObject(caseID string, ind Individual, base string) map[string]any {
	var verification map[string]any
	switch {
	case ind.RequiresCDD && ind.VerificationStatus != "PASS":
		verification = map[string]any{"__typename": "ValidUrl", "url": base + "/verify/" + ind.ID}
	case ind.RequiresCDD:
		verification = map[string]any{"__typename": "InvalidUrl", "message": "The individual has already been verified."}
	default:
		verification = map[string]any{"__typename": "InvalidUrl", "message": "The individual does not require verification."}
	}
	obj := map[string]any{
		"individualId":  ind.ID,
		"legalName":     nameObject(ind.LegalName),
		"preferredName": nameObject(ind.PreferredName),
		"emailAddress":  nullable(ind.EmailAddress),
		"phoneNumber":   nullable(ind.PhoneNumber),
		"requiresCDD":   ind.RequiresCDD,
		"isCaseContact": ind.IsCaseContact,
		"urls":          map[string]any{"view": base + "/app/cases/" + caseID + "/individuals/" + ind.ID, "verification": verification},
		"documents":     documentsObject(ind.Documents, base),
		"dateOfBirth":   nullable(ind.DateOfBirth),
	}
	if ind.VerificationStatus != "" {
		obj["individualVerificationChecksStatus"] = map[string]any{"overall": ind.VerificationStatus}
	}
	return obj
}

func validationErrorsObject(errs []ValidationError) map[string]any {
	list := make([]any, len(errs))
	for i, e := range errs {
		var path any // null, unless the error concerns a field
		if len(e.FieldPath) > 0 {
			path = append([]string(nil), e.FieldPath...)
		}
		list[i] = map[string]any{"message": e.Message, "fieldPath": path}
	}
	return map[string]any{"__typename": "ValidationErrors", "errors": list}
}
