// Package endpoints holds the console's HTTP areas, one package each (clusters, topics, groups,
// operations, runtime, alerts, auth…). An area declares its endpoints once with server/api
// (method, path, role, audit action, input and output types, handler); the server mounts them and
// serves the OpenAPI document built from them. Handlers call the service layer only and answer its
// view types.
package endpoints
