package store

import (
	"time"
)

// Cluster is a cluster the console knows: from the configuration, the embedded one, or a runtime cluster.
type Cluster struct {
	ID               int64  `gorm:"primaryKey"`
	Name             string `gorm:"uniqueIndex"`
	Source           string // config, embedded or runtime
	BootstrapServers string // comma-separated
	ZooKeeper        string `gorm:"column:zookeeper"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// User is a console account (optional; the admin token works without any).
type User struct {
	ID           int64 `gorm:"primaryKey"`
	Username     string
	PasswordHash string
	Role         string // viewer, operator or admin
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  *time.Time
	// Source is local (the password is kept here) or ldap (a directory account, refreshed at sign-in).
	Source string
	// DirectoryGroups is a JSON list of the directory groups seen at the last sign-in.
	DirectoryGroups *string
}

// APIToken is a bearer token, stored as its SHA-256 hash. UserID is nil for the console's admin token.
type APIToken struct {
	ID         int64 `gorm:"primaryKey"`
	UserID     *int64
	Name       string
	TokenHash  string
	Prefix     string // the first characters, so a user can tell tokens apart
	Role       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
}

// TableName keeps gorm from pluralising "api_token" oddly.
func (APIToken) TableName() string { return "api_tokens" }

// Session is a login session; IDHash and CSRFHash are hashes of the secrets held by the browser.
type Session struct {
	IDHash    string `gorm:"primaryKey;column:id_hash"`
	UserID    int64
	CSRFHash  string `gorm:"column:csrf_hash"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry records one mutation or login: who, what, on which target, with which parameters, and how it ended.
type AuditEntry struct {
	ID         int64 `gorm:"primaryKey"`
	At         time.Time
	Actor      string
	ActorKind  string // token, user, system
	RemoteAddr string
	Action     string // e.g. topic.create
	Cluster    string
	Target     string
	Params     string // JSON, secrets removed by the caller
	Result     string // ok, error, denied
	Error      string
	AuthMethod string // token, local or ldap: how the actor signed in
	UserAgent  string
}

// TableName is the audit table's name.
func (AuditEntry) TableName() string { return "audit_log" }

// AlertChannel is a notification destination; Config is JSON and may hold secrets.
type AlertChannel struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	Type      string // webhook, slack, dingtalk, wecom, feishu, email
	Config    string
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AlertRule is one alerting rule; patterns are globs over cluster, group and topic names.
type AlertRule struct {
	ID              int64 `gorm:"primaryKey"`
	Name            string
	Kind            string
	ClusterPattern  string
	GroupPattern    string
	TopicPattern    string
	Threshold       float64
	WindowSamples   int
	ForSeconds      int
	CooldownSeconds int
	RepeatSeconds   int
	Severity        string
	ChannelIDs      string `gorm:"column:channel_ids"` // JSON array
	Enabled         bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// AlertEvent is one firing of a rule for one subject, kept after it resolves as history.
type AlertEvent struct {
	ID             int64 `gorm:"primaryKey"`
	RuleID         int64
	Fingerprint    string
	State          string // firing or resolved
	Severity       string
	Cluster        string
	Subject        string
	Summary        string
	Labels         string // JSON
	Samples        string // JSON
	StartedAt      time.Time
	ResolvedAt     *time.Time
	LastNotifiedAt *time.Time
	Notifications  int
	DeliveryError  string
}

// Reassignment is a partition reassignment started from the console.
type Reassignment struct {
	ID            int64 `gorm:"primaryKey"`
	Cluster       string
	State         string // running, completed, cancelled, failed
	Plan          string // JSON: the target assignment
	Original      string // JSON: the assignment before, for cancel and display
	ThrottleBytes int64
	Actor         string
	StartedAt     time.Time
	FinishedAt    *time.Time
	Error         string
}

// RuntimeCluster is a cluster the console stood up with its own broker runtime.
type RuntimeCluster struct {
	ID            int64 `gorm:"primaryKey"`
	Name          string
	Brokers       int
	MetadataStore string // local or zookeeper (ZooKeeper mode), or kraft
	ZooKeeper     string `gorm:"column:zookeeper"`
	DataDir       string
	BasePort      int
	State         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Setting is a key/value pair the console keeps for itself.
type Setting struct {
	K string `gorm:"primaryKey;column:k"`
	V string `gorm:"column:v"`
}
