package broker

import (
	"context"
	"errors"
	"strconv"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// The zkCluster's admin side: elections and reassignments go to the controller when it runs on this
// broker; dynamic broker configs are read from /config/brokers.

func (zc *zkCluster) electLeaders(ctx context.Context, typ int8, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]int16, error) {
	c := zc.controllerHere()
	if c == nil {
		return nil, errNotControllerNow
	}
	return c.ElectLeaders(ctx, typ, tps)
}

func (zc *zkCluster) alterReassignments(ctx context.Context, reqs map[zkdata.TopicPartition][]int32) (map[zkdata.TopicPartition]int16, error) {
	c := zc.controllerHere()
	if c == nil {
		return nil, errNotControllerNow
	}
	return c.AlterReassignments(ctx, reqs)
}

func (zc *zkCluster) listReassignments() map[zkdata.TopicPartition]zkdata.PartitionAssignment {
	return zc.reassigning()
}

// applyBrokerConfigs installs the dynamic broker configs (dynconfig.go)
// of /config/brokers/<default> and /config/brokers/<id>, as
// kafka-configs.sh, kafka-reassign-partitions.sh --throttle or this
// runtime's AlterConfigs write them; unset keys fall back to
// server.properties.
func (zc *zkCluster) applyBrokerConfigs(ctx context.Context, s metastore.Session) error {
	for _, name := range []string{defaultBrokerEntity, strconv.Itoa(int(zc.self.ID))} {
		cfg := map[string]string{}
		data, _, err := s.Get(ctx, zkdata.ConfigEntityPath(zkdata.ConfigTypeBroker, name))
		switch {
		case errors.Is(err, metastore.ErrNoNode):
		case err != nil:
			return err
		default:
			if cfg, err = zkdata.DecodeConfig(data); err != nil {
				zc.log.Warn("bad dynamic broker config", "entity", name, "err", err)
				continue
			}
		}
		zc.b.setDynamicConfig(name, cfg)
	}
	return nil
}
