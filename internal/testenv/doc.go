// Package testenv provides test helpers that hand tests real services: a
// fresh MariaDB/MySQL database (MySQLDSN), a ZooKeeper 3.8 server (ZooKeeper,
// ZooKeeperChroot), free loopback ports (FreePort) and polling with a deadline
// (WaitFor).
//
// Services come from the environment when deploy/scripts/services.sh started
// them (OSPREY_TEST_MYSQL_DSN, OSPREY_TEST_ZK; `make test` does this, so all
// test processes share one MariaDB and one ZooKeeper). When a variable is
// unset, the first test that needs the service starts a private server for
// the test process (once, in a temporary directory, on a free 127.0.0.1
// port); Main stops it after the tests. Tests never skip: when the server
// binaries are missing they fail, naming deploy/scripts/install-deps.sh.
//
// A package that uses the services declares
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Without it the private servers still die with the test process (they get
// SIGKILL when their parent exits), but their temporary directories are only
// removed by the next test process that starts a server.
package testenv
