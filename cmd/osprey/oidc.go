package main

import (
	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/internal/oidcauth"
	"github.com/osprey-kafka/osprey/server/service"
)

// oidcOf is the OpenID Connect provider single sign-on goes to, or nil when OIDC is off. It does
// no I/O: discovery happens at the first sign-in.
func oidcOf(cfg config.OIDC) service.OIDC {
	if !cfg.Enabled {
		return nil
	}
	return oidcauth.New(cfg)
}
