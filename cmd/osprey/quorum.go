package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
)

// quorumFlags are kafka-metadata-quorum.sh's connection options.
type quorumFlags struct {
	bootstrapServer     string
	bootstrapController string
	timeout             time.Duration
	// dial connects to a controller listener with the protocol and credentials of a
	// --command-config's controller listener (see useConfig); nil: plain TCP.
	dial func(ctx context.Context, addr string) (net.Conn, error)
}

// useConfig makes the requests to --bootstrap-controller use the controller listener's
// protocol and credentials from the server.properties at path (SSL, SASL_PLAINTEXT or
// SASL_SSL with PLAIN), as a node configured by it connects to the controllers.
func (f *quorumFlags) useConfig(path string) error {
	if f.bootstrapController == "" || path == "" {
		return nil
	}
	cfg, err := loadBrokerProperties(path)
	if err != nil {
		return err
	}
	if f.dial, err = cfg.ControllerDialer(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// newQuorumCmd is `osprey quorum`, kafka-metadata-quorum.sh's add-controller and
// remove-controller for a dynamic quorum (KIP-853).
func newQuorumCmd() *cobra.Command {
	f := &quorumFlags{}
	cmd := &cobra.Command{
		Use:   "quorum",
		Short: "Change the voters of a KRaft cluster's dynamic controller quorum (kafka-metadata-quorum.sh)",
		Long: `Adds or removes a controller of a dynamic KRaft quorum (KIP-853: formatted with --standalone,
--initial-controllers or --no-initial-controllers), as kafka-metadata-quorum.sh does. The request
goes to a broker (--bootstrap-server), which forwards it to the quorum leader, or to the
controllers (--bootstrap-controller), of which only the leader accepts it.

  osprey quorum --bootstrap-server b1:9092 add-controller --command-config controller.properties
  osprey quorum --bootstrap-controller c1:9093 remove-controller --controller-id 3 \
      --controller-directory-id <directory.id>`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.bootstrapServer, "bootstrap-server", "", "brokers to send the request through (host:port,...)")
	pf.StringVar(&f.bootstrapController, "bootstrap-controller", "", "controllers to send the request to (host:port,...)")
	pf.DurationVar(&f.timeout, "timeout", 60*time.Second, "how long to keep trying while the quorum has no leader or the new controller catches up")
	cmd.AddCommand(newAddControllerCmd(f), newRemoveControllerCmd(f))
	return cmd
}

func newAddControllerCmd(f *quorumFlags) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "add-controller",
		Short: "Add the controller of --command-config (its node.id, metadata directory id and CONTROLLER listeners) as a voter",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return errors.New("add-controller: --command-config <controller's server.properties> is required")
			}
			req, err := addControllerRequest(configPath)
			if err != nil {
				return err
			}
			if err := f.useConfig(configPath); err != nil {
				return err
			}
			if err := f.send(cmd.Context(), req); err != nil {
				return err
			}
			var eps []string
			for _, l := range req.Listeners {
				eps = append(eps, fmt.Sprintf("%s://%s", l.Name, net.JoinHostPort(l.Host, fmt.Sprint(l.Port))))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added controller %d with directory id %s and endpoints: %s\n",
				req.VoterID, metadata.Uuid(req.VoterDirectoryID), strings.Join(eps, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "command-config", "", "the new controller's server.properties (formatted with --no-initial-controllers); "+
		"with --bootstrap-controller its controller listener's protocol and credentials are used to connect")
	return cmd
}

func newRemoveControllerCmd(f *quorumFlags) *cobra.Command {
	var id int32
	var dir, configPath string
	cmd := &cobra.Command{
		Use:   "remove-controller",
		Short: "Remove a voter (its id and metadata directory id) from the quorum",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id < 0 || dir == "" {
				return errors.New("remove-controller: --controller-id and --controller-directory-id are required")
			}
			u, err := metadata.ParseUuid(dir)
			if err != nil {
				return fmt.Errorf("--controller-directory-id %q: %w", dir, err)
			}
			if err := f.useConfig(configPath); err != nil {
				return err
			}
			req := kmsg.NewPtrRemoveRaftVoterRequest()
			req.VoterID, req.VoterDirectoryID = id, u
			if err := f.send(cmd.Context(), req); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed controller %d with directory id %s\n", id, u)
			return nil
		},
	}
	cmd.Flags().Int32Var(&id, "controller-id", -1, "the voter's node.id")
	cmd.Flags().StringVar(&dir, "controller-directory-id", "", "the voter's metadata directory id (directory.id in its meta.properties)")
	cmd.Flags().StringVar(&configPath, "command-config", "", "a server.properties of the cluster: with --bootstrap-controller, "+
		"its controller listener's protocol and credentials are used to connect")
	return cmd
}

// addControllerRequest is AddRaftVoter (v0, which Kafka 3.9 and later serve) for the controller
// that configPath configures: its node.id, the directory.id of its formatted metadata
// directory, and its controller listeners (host localhost when a listener has none, as
// kafka-storage.sh --standalone does).
func addControllerRequest(configPath string) (*kmsg.AddRaftVoterRequest, error) {
	cfg, err := loadBrokerProperties(configPath)
	if err != nil {
		return nil, err
	}
	if !cfg.HasRole(broker.RoleController) {
		return nil, fmt.Errorf("%s: process.roles has no controller; only a controller can be added to the quorum", configPath)
	}
	mp, err := metaprops.Read(cfg.MetadataDir())
	if err != nil {
		return nil, fmt.Errorf("%s: reading meta.properties of the metadata directory %s (format it with `osprey storage format "+
			"--no-initial-controllers`): %w", configPath, cfg.MetadataDir(), err)
	}
	if mp.DirectoryID == nil {
		return nil, fmt.Errorf("%s: meta.properties of %s has no directory.id", configPath, cfg.MetadataDir())
	}
	req := kmsg.NewPtrAddRaftVoterRequest()
	req.ClusterID = &mp.ClusterID
	req.TimeoutMillis = 30000
	req.VoterID, req.VoterDirectoryID = cfg.NodeID, *mp.DirectoryID
	for i, ls := range cfg.ControllerListeners {
		host, port, err := broker.ListenerHostPort(ls)
		if err != nil {
			return nil, fmt.Errorf("%s: listener %s: %w", configPath, ls, err)
		}
		if host == "" {
			host = "localhost"
		}
		l := kmsg.NewAddRaftVoterRequestListener()
		l.Name, l.Host, l.Port = listenerName(ls, cfg.ControllerListenerNames, i), host, uint16(port)
		req.Listeners = append(req.Listeners, l)
	}
	if len(req.Listeners) == 0 {
		return nil, fmt.Errorf("%s: listeners has no controller listener (one named in controller.listener.names)", configPath)
	}
	return req, nil
}

// listenerName is the NAME of a NAME://host:port listener, else the i-th controller listener name.
func listenerName(ls string, names []string, i int) string {
	if n, _, ok := strings.Cut(ls, "://"); ok && n != "" {
		return n
	}
	if i < len(names) {
		return names[i]
	}
	return "CONTROLLER"
}

// send sends a voter change to the bootstrap servers or controllers in turn until one takes
// it: a network error or NOT_LEADER_OR_FOLLOWER (a controller that does not lead, a quorum
// without a leader) moves to the next, REQUEST_TIMED_OUT (the new voter has not caught up,
// another change is in progress) tries again, until --timeout.
func (f *quorumFlags) send(ctx context.Context, req kmsg.Request) error {
	list := f.bootstrapServer
	if (list == "") == (f.bootstrapController == "") {
		return errors.New("give one of --bootstrap-server and --bootstrap-controller")
	}
	if list == "" {
		list = f.bootstrapController
	}
	addrs := strings.Split(list, ",")
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var last error
	for i := 0; ; i++ {
		addr := strings.TrimSpace(addrs[i%len(addrs)])
		resp, err := roundTrip(ctx, f.dial, addr, req)
		if err == nil {
			code, msg := voterChangeError(resp)
			switch {
			case code == 0:
				return nil
			case code != kerr.RequestTimedOut.Code && code != kerr.NotLeaderForPartition.Code:
				return fmt.Errorf("%s: %w%s", kmsg.NameForKey(req.Key()), kerr.ErrorForCode(code), msg)
			}
			err = fmt.Errorf("%s from %s: %w%s", kmsg.NameForKey(req.Key()), addr, kerr.ErrorForCode(code), msg)
		}
		last = err
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("no controller took the change within %s: %w", f.timeout, last)
		case <-t.C:
		}
	}
}

func voterChangeError(resp kmsg.Response) (int16, string) {
	var code int16
	var msg *string
	switch r := resp.(type) {
	case *kmsg.AddRaftVoterResponse:
		code, msg = r.ErrorCode, r.ErrorMessage
	case *kmsg.RemoveRaftVoterResponse:
		code, msg = r.ErrorCode, r.ErrorMessage
	}
	if msg == nil || *msg == "" {
		return code, ""
	}
	return code, " (" + *msg + ")"
}

// roundTrip sends req to addr on a connection of its own (from dial, nil: plain TCP) and reads
// the answer.
func roundTrip(ctx context.Context, dial func(context.Context, string) (net.Conn, error), addr string, req kmsg.Request) (kmsg.Response, error) {
	if dial == nil {
		var d net.Dialer
		dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	c, err := dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	const corr = 1
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("osprey-quorum")).AppendRequest(nil, req, corr)
	if _, err := c.Write(frame); err != nil {
		return nil, fmt.Errorf("write to %s: %w", addr, err)
	}
	b, err := kafkawire.ReadFrame(bufio.NewReader(c), kafkawire.MinResponseFrame, 1<<20)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s closed the connection (not a KRaft node that serves %s, or a controller listener "+
				"that needs TLS or SASL: give --command-config?)", addr, kmsg.NameForKey(req.Key()))
		}
		return nil, fmt.Errorf("read from %s: %w", addr, err)
	}
	return kafkawire.ParseResponse(b, req, corr)
}
