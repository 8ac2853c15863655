package complykit

// The contracts in specs/ are the single source of truth; gen/ is rebuilt from
// them with the generators pinned in tools.go. CI fails if running these lines
// changes anything, so never edit gen/ by hand.

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config gen/stems/config.yaml specs/stems.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config gen/stenn/config.yaml specs/stenn.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config gen/cloudcompli/config.yaml specs/cloudcompli.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config gen/firstaml/config.yaml specs/firstaml.yaml
//go:generate go run github.com/Khan/genqlient gen/firstamlgql/genqlient.yaml
