// 简体中文 messages; typed against the English schema so a missing key fails the type check.
import type { MessageSchema } from './en'

const zhCN: MessageSchema = {
  app: {
    name: 'Osprey',
    tagline: 'Kafka 控制台',
  },
  nav: {
    label: '主导航',
    clusters: '集群',
  },
  header: {
    cluster: '集群',
    selectCluster: '选择集群',
    noClusters: '没有集群',
    language: '语言',
    toDark: '切换到深色主题',
    toLight: '切换到浅色主题',
  },
  clusters: {
    title: '集群',
    count: '没有集群 | 1 个集群 | {n} 个集群',
    refresh: '刷新',
    loading: '正在加载集群…',
    empty: '尚未配置任何集群。',
    emptyHint: '请在配置文件的 "clusters:" 下添加集群，或启用内置集群。',
    loadFailed: '无法加载集群',
    retry: '重试',
    embedded: '内置',
    notPolled: '尚未采集',
    partial: '数据不完整',
    partialHint: '最近一次采集部分失败，数据可能不完整。',
    columns: {
      name: '名称',
      bootstrapServers: 'Bootstrap 地址',
      zookeeper: 'ZooKeeper',
      brokers: 'Broker 数',
      topics: '主题数',
      partitions: '分区数',
      underReplicated: '副本不足',
      offline: '离线',
      controller: '控制器',
      lastPoll: '最近采集',
    },
  },
  errors: {
    network: '无法连接到 Osprey 服务器。',
    timeout: 'Osprey 服务器没有及时响应。',
    badResponse: 'Osprey 服务器返回了无法解析的响应。',
  },
  notFound: {
    title: '页面不存在',
    message: '{path} 没有对应的页面。',
    back: '返回集群列表',
  },
  chart: {
    loading: '正在加载图表…',
    failed: '图表加载失败。',
  },
}

export default zhCN
