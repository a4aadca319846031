// Package imports serves the import of other tools' configuration (Kafka-Eagle's) into the console.
package imports

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodPost, "/api/v1/import/efak", func(c *gin.Context, in *EFAKRequest) (service.EFAKImport, error) {
			return svc.ImportEFAK(c.Request.Context(), api.CallerOf(c), in.Content, in.DryRun)
		}, api.Doc("clusters", "Import Kafka-Eagle's system-config.properties: a dry run lists what would be imported and what is ignored; otherwise its clusters are added"),
			api.Needs(service.RoleAdmin, "cluster.import.efak")),
	)
}

// EFAKRequest carries the file's text.
type EFAKRequest struct {
	Content string `json:"content" required:"true" minLength:"1" maxLength:"1048576" description:"The text of system-config.properties"`
	DryRun  bool   `json:"dryRun" description:"Only report what would be imported"`
}
