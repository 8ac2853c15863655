// Package specs embeds the handwritten contracts that the rest of the SDK is
// generated from and validated against: one OpenAPI 3.0 document per provider
// and First AML's GraphQL schema and operations.
//
// The fake servers load their provider's document from here, so a fake and
// the generated client can never disagree about the contract.
package specs

import (
	"context"
	"embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// FS holds every contract file: stems.yaml, stenn.yaml, cloudcompli.yaml,
// firstaml.yaml, firstaml.graphql and firstaml-operations.graphql.
//
//go:embed *.yaml *.graphql
var FS embed.FS

// Load parses and validates the OpenAPI document called name (for example
// "stenn.yaml") from FS.
func Load(name string) (*openapi3.T, error) {
	data, err := FS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("specs: %w", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("specs: load %s: %w", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("specs: validate %s: %w", name, err)
	}
	return doc, nil
}
