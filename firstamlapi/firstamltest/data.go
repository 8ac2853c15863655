package firstamltest

import (
	"strings"
)

// Organization is an organization the fake's API client can access.
type Organization struct {
	// ID is the organizationId, a 32-hex string in First AML's example.
	ID   string
	Name string
	// Offices are the organization's offices; none is allowed.
	Offices []Office
}

// Office is an office of an organization.
type Office struct {
	// Key is the office key (a GUID), the officeId of the create inputs.
	Key  string
	Name string
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
}

// User is a user of an organization (a case's requestor or lead).
type User struct {
	FullName     string
	EmailAddress string
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
}

// Name is a person's name; the fake derives fullName.
type Name struct {
	First, Middle, Last string
}

// Entity is a non-person party on a case.
type Entity struct {
	ID        string
	LegalName string
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
)

// SampleOrganizations returns the organizations the fake serves by
// default: the docs' example organization with its Sydney and Auckland
// offices, and one without offices.
func SampleOrganizations() []Organization {
	return []Organization{
		{ID: SampleOrganizationID, Name: "Your org inc.", Offices: []Office{
			{Key: "abc12345-3476-4cf6-8491-bdd1272cf015", Name: "Sydney"},
			{Key: SampleOfficeKey, Name: "Auckland"},
		}},
		{ID: SampleNoOfficeOrganizationID, Name: "Solo Conveyancing Ltd"},
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
				EmailAddress: "aroha@example.com", PhoneNumber: "+64 21 555 0142", IsCaseContact: true, RequiresCDD: true, VerificationStatus: "PASS"},
			{ID: "ind-9c21", LegalName: &Name{First: "James", Last: "Ngata"}, EmailAddress: "james@example.com", RequiresCDD: true},
		},
		Entities: []Entity{{ID: "ent-11d0", LegalName: "Ngata Family Trust"}},
	}}
}

func cloneOrgs(in []Organization) []Organization {
	out := make([]Organization, len(in))
	for i, o := range in {
		o.Offices = append([]Office(nil), o.Offices...)
		out[i] = o
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
		inds[i] = ind
	}
	c.Individuals = inds
	c.Entities = append([]Entity(nil), c.Entities...)
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
				obj["office"] = map[string]any{"key": off.Key, "name": off.Name}
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
		ents[i] = map[string]any{"legalName": nullable(e.LegalName), "urls": map[string]any{"view": base + "/app/cases/" + c.ID + "/entities/" + e.ID}}
	}
	obj["entities"] = ents
	return obj
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
		offices[i] = map[string]any{"key": off.Key, "name": off.Name}
	}
	return map[string]any{"organizationId": o.ID, "name": o.Name, "offices": offices}
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
		"documents":     []any{},
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
