package cloudcomplitest

import (
	"maps"
	"slices"

	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/gen/cloudcompli"
)

// Data is what the fake instance serves. The shapes CloudCompli does not
// document (user, company, form definitions, pre-population data) are open
// objects in the contract; SampleData fills them with plausible fields.
type Data struct {
	// User is the user the authorize endpoint signs in, and what GET
	// /api/v2/user returns for tokens from the authorization code grant.
	// Its "id" names the user in the fake's grants.
	User cloudcompli.User
	// Company is what GET /api/v2/company returns.
	Company cloudcompli.Company
	// Projects is what GET /api/v2/projects returns, in order.
	Projects []cloudcompli.Project
	// Classifications are keyed by id; a project's classification lists
	// the forms that can be submitted for it.
	Classifications map[string]cloudcompli.Classification
	// Forms are the form definitions, keyed by name.
	Forms map[string]cloudcompli.Form
	// Prepopulate holds pre-population data per project and form; a valid
	// pair without an entry gets an empty object.
	Prepopulate map[FormKey]cloudcompli.PrepopulateData
}

// FormKey names a form of a project.
type FormKey struct {
	ProjectID string
	FormName  string
}

// Sample identifiers, for tests that call the sample data directly.
const (
	SampleUserID                     = "64b7f0c2a1e4d3001f0000a1"
	SampleProjectID                  = "64b7f0c2a1e4d3001f000101"
	SampleIndustrialProjectID        = "64b7f0c2a1e4d3001f000102"
	SampleClassificationID           = "64b7f0c2a1e4d3001f00c001"
	SampleIndustrialClassificationID = "64b7f0c2a1e4d3001f00c002"
	SampleFormName                   = "construction-inspection"
)

// SampleData returns the data the fake serves by default: a stormwater
// compliance instance with one inspector, two projects (a construction
// site and an industrial facility), their classifications and forms, and
// pre-population data for the construction inspection.
func SampleData() Data {
	field := func(name, typ, label string) map[string]any {
		return map[string]any{"name": name, "type": typ, "label": label}
	}
	form := func(name, title string, fields ...map[string]any) cloudcompli.Form {
		list := make([]any, len(fields))
		for i, f := range fields {
			list[i] = f
		}
		return cloudcompli.Form{"name": name, "title": title, "fields": list}
	}
	summary := func(name, title string) cloudcompli.FormSummary {
		return cloudcompli.FormSummary{Name: name, AdditionalProperties: map[string]any{"title": title}}
	}
	return Data{
		User: cloudcompli.User{
			"id": SampleUserID, "email": "ivy.inspector@example.com",
			"first_name": "Ivy", "last_name": "Inspector", "role": "inspector",
		},
		Company: cloudcompli.Company{
			"id": "64b7f0c2a1e4d3001f00e001", "name": "Example Stormwater Co.",
			"timezone": "America/Los_Angeles",
		},
		Projects: []cloudcompli.Project{
			{Id: SampleProjectID, ClassificationId: SampleClassificationID,
				AdditionalProperties: map[string]any{"name": "Harbor Street Construction Site", "status": "active"}},
			{Id: SampleIndustrialProjectID, ClassificationId: SampleIndustrialClassificationID,
				AdditionalProperties: map[string]any{"name": "Riverside Industrial Facility", "status": "active"}},
		},
		Classifications: map[string]cloudcompli.Classification{
			SampleClassificationID: {
				Forms: []cloudcompli.FormSummary{
					summary(SampleFormName, "Construction Site Inspection"),
					summary("bmp-maintenance", "BMP Maintenance Log"),
				},
				AdditionalProperties: map[string]any{"name": "Construction"},
			},
			SampleIndustrialClassificationID: {
				Forms:                []cloudcompli.FormSummary{summary("industrial-inspection", "Industrial Facility Inspection")},
				AdditionalProperties: map[string]any{"name": "Industrial"},
			},
		},
		Forms: map[string]cloudcompli.Form{
			SampleFormName: form(SampleFormName, "Construction Site Inspection",
				field("inspector", "text", "Inspector"),
				field("inspection_date", "date", "Inspection date"),
				field("rain_event", "boolean", "Inspection after a rain event"),
				field("notes", "textarea", "Notes")),
			"bmp-maintenance": form("bmp-maintenance", "BMP Maintenance Log",
				field("bmp", "text", "BMP"),
				field("action", "textarea", "Maintenance performed")),
			"industrial-inspection": form("industrial-inspection", "Industrial Facility Inspection",
				field("inspector", "text", "Inspector"),
				field("outfall", "text", "Outfall"),
				field("discharge_observed", "boolean", "Discharge observed")),
		},
		Prepopulate: map[FormKey]cloudcompli.PrepopulateData{
			{ProjectID: SampleProjectID, FormName: SampleFormName}: {
				"inspector": "Ivy Inspector", "site_address": "100 Harbor Street, Long Beach, CA",
			},
		},
	}
}

// clone copies d deeply enough that the fake never shares a map with the
// caller.
func (d Data) clone() Data {
	out := Data{
		User:            cloneMap(d.User),
		Company:         cloneMap(d.Company),
		Projects:        make([]cloudcompli.Project, len(d.Projects)),
		Classifications: make(map[string]cloudcompli.Classification, len(d.Classifications)),
		Forms:           make(map[string]cloudcompli.Form, len(d.Forms)),
		Prepopulate:     make(map[FormKey]cloudcompli.PrepopulateData, len(d.Prepopulate)),
	}
	if out.User == nil {
		out.User = cloudcompli.User{}
	}
	if out.Company == nil {
		out.Company = cloudcompli.Company{}
	}
	for i, p := range d.Projects {
		p.AdditionalProperties = maps.Clone(p.AdditionalProperties)
		out.Projects[i] = p
	}
	for k, c := range d.Classifications {
		c.Forms = append([]cloudcompli.FormSummary{}, c.Forms...)
		c.AdditionalProperties = maps.Clone(c.AdditionalProperties)
		out.Classifications[k] = c
	}
	for k, f := range d.Forms {
		out.Forms[k] = cloneMap(f)
	}
	for k, p := range d.Prepopulate {
		out.Prepopulate[k] = cloneMap(p)
	}
	return out
}

func cloneMap[M ~map[string]any](m M) M { return maps.Clone(m) }

// samples lists the records of d, for Server.Samples.
func (d Data) samples() []fake.Sample {
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	var out []fake.Sample
	if id := str(d.User, "id"); id != "" {
		out = append(out, fake.Sample{Kind: "user", ID: id, Name: str(d.User, "email")})
	}
	if id := str(d.Company, "id"); id != "" {
		out = append(out, fake.Sample{Kind: "company", ID: id, Name: str(d.Company, "name")})
	}
	for _, p := range d.Projects {
		out = append(out, fake.Sample{Kind: "project", ID: p.Id, Name: str(p.AdditionalProperties, "name"),
			Parent: "classification " + p.ClassificationId})
	}
	for _, id := range slices.Sorted(maps.Keys(d.Classifications)) {
		out = append(out, fake.Sample{Kind: "classification", ID: id, Name: str(d.Classifications[id].AdditionalProperties, "name")})
	}
	for _, name := range slices.Sorted(maps.Keys(d.Forms)) {
		out = append(out, fake.Sample{Kind: "form", ID: name, Name: str(d.Forms[name], "title")})
	}
	return out
}

// Entry is a form entry the fake stored.
type Entry struct {
	// ID is the entry's _id.
	ID        string
	ProjectID string
	FormName  string
	// Fields is the submitted map of form field to value, as decoded from
	// JSON.
	Fields map[string]any
	// Photos are the photos attached to the entry, in order.
	Photos []EntryPhoto
}

// EntryPhoto is a photo attached to an entry.
type EntryPhoto struct {
	MIMEType    string
	Description string
	// Data is the decoded image.
	Data []byte
}

func (e *Entry) clone() Entry {
	out := *e
	out.Fields = maps.Clone(e.Fields)
	out.Photos = make([]EntryPhoto, len(e.Photos))
	for i, p := range e.Photos {
		p.Data = append([]byte(nil), p.Data...)
		out.Photos[i] = p
	}
	return out
}

// Entries returns copies of the stored form entries, oldest first.
func (s *Server) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.clone()
	}
	return out
}
