package params

// TopicPath is the {cluster} and {topic} path parameters.
type TopicPath struct {
	ClusterPath
	Topic string `path:"topic" json:"-" description:"Topic name"`
}

// GroupPath is the {cluster} and {group} path parameters.
type GroupPath struct {
	ClusterPath
	Group string `path:"group" json:"-" description:"Consumer group id"`
}
