package main

import (
	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/internal/ldapauth"
	"github.com/osprey-kafka/osprey/server/service"
)

// directoryOf is the LDAP directory sign-in checks passwords with, or nil when LDAP is off.
func directoryOf(cfg config.LDAP) (service.Directory, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	a, err := ldapauth.New(cfg)
	if err != nil {
		return nil, err
	}
	return a, nil
}
