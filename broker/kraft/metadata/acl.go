package metadata

// The access control record types, with Kafka's api keys: the KRaft
// controller stores each ACL as one record with its own id.
const (
	KeyAccessControlEntry       APIKey = 18
	KeyRemoveAccessControlEntry APIKey = 19
)

// AccessControlEntryRecord (api key 18, v0) adds one ACL. The enums carry
// Kafka's wire codes (ResourceType, PatternType, AclOperation,
// AclPermissionType).
type AccessControlEntryRecord struct {
	ID             Uuid   // Id: the ACL's unique id
	ResourceType   int8   // ResourceType
	ResourceName   string // ResourceName
	PatternType    int8   // PatternType
	Principal      string // Principal
	Host           string // Host
	Operation      int8   // Operation
	PermissionType int8   // PermissionType
	UnknownTags    []Tag
}

func (*AccessControlEntryRecord) Key() APIKey       { return KeyAccessControlEntry }
func (*AccessControlEntryRecord) MaxVersion() int16 { return 0 }
func (*AccessControlEntryRecord) name() string      { return "AccessControlEntryRecord" }

func (r *AccessControlEntryRecord) appendBody(e *encoder) {
	e.uuid(r.ID)
	e.int8(r.ResourceType)
	e.string(r.ResourceName)
	e.int8(r.PatternType)
	e.string(r.Principal)
	e.string(r.Host)
	e.int8(r.Operation)
	e.int8(r.PermissionType)
	e.tags(nil, r.UnknownTags)
}

func (r *AccessControlEntryRecord) readBody(d *decoder) {
	*r = AccessControlEntryRecord{}
	r.ID = d.uuid()
	r.ResourceType = d.int8()
	r.ResourceName = d.string("resourceName")
	r.PatternType = d.int8()
	r.Principal = d.string("principal")
	r.Host = d.string("host")
	r.Operation = d.int8()
	r.PermissionType = d.int8()
	r.UnknownTags = d.tags(nil)
}

// RemoveAccessControlEntryRecord (api key 19, v0) removes the ACL with the
// id.
type RemoveAccessControlEntryRecord struct {
	ID          Uuid // Id
	UnknownTags []Tag
}

func (*RemoveAccessControlEntryRecord) Key() APIKey       { return KeyRemoveAccessControlEntry }
func (*RemoveAccessControlEntryRecord) MaxVersion() int16 { return 0 }
func (*RemoveAccessControlEntryRecord) name() string      { return "RemoveAccessControlEntryRecord" }

func (r *RemoveAccessControlEntryRecord) appendBody(e *encoder) {
	e.uuid(r.ID)
	e.tags(nil, r.UnknownTags)
}

func (r *RemoveAccessControlEntryRecord) readBody(d *decoder) {
	*r = RemoveAccessControlEntryRecord{}
	r.ID = d.uuid()
	r.UnknownTags = d.tags(nil)
}
