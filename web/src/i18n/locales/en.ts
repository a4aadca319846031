// English messages: the source of truth for the message keys (zh-CN must match this shape).
const en = {
  app: {
    name: 'Osprey',
    tagline: 'Kafka console',
  },
  nav: {
    label: 'Main navigation',
    clusters: 'Clusters',
  },
  header: {
    cluster: 'Cluster',
    selectCluster: 'Select a cluster',
    noClusters: 'No clusters',
    language: 'Language',
    toDark: 'Switch to dark theme',
    toLight: 'Switch to light theme',
  },
  clusters: {
    title: 'Clusters',
    count: 'No clusters | 1 cluster | {n} clusters',
    refresh: 'Refresh',
    loading: 'Loading clusters…',
    empty: 'No clusters are configured.',
    emptyHint: 'Add clusters under "clusters:" in the configuration file, or enable the embedded cluster.',
    loadFailed: 'Could not load the clusters',
    retry: 'Retry',
    embedded: 'embedded',
    notPolled: 'not polled yet',
    partial: 'partial data',
    partialHint: 'The last poll failed in part; figures may be incomplete.',
    columns: {
      name: 'Name',
      bootstrapServers: 'Bootstrap servers',
      zookeeper: 'ZooKeeper',
      brokers: 'Brokers',
      topics: 'Topics',
      partitions: 'Partitions',
      underReplicated: 'Under-replicated',
      offline: 'Offline',
      controller: 'Controller',
      lastPoll: 'Last poll',
    },
  },
  errors: {
    network: 'The Osprey server could not be reached.',
    timeout: 'The Osprey server did not answer in time.',
    badResponse: 'The Osprey server sent a response that could not be read.',
  },
  notFound: {
    title: 'Page not found',
    message: 'There is no page at {path}.',
    back: 'Back to the clusters',
  },
  chart: {
    loading: 'Loading chart…',
    failed: 'The chart could not be loaded.',
  },
}

export type MessageSchema = typeof en
export default en
