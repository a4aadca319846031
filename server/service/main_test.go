package service

import (
	"testing"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
