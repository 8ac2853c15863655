//go:build tools

// This file pins the code generators that `go generate ./...` runs, so that
// their versions live in go.mod and every machine generates the same code.
package complykit

import (
	_ "github.com/Khan/genqlient"
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
