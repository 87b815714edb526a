// Strings of the region console's quarantined-records review (docs/ingest.md).
const quarantineZhCN = {
  quarantine: {
    nav: '隔离记录',
    title: '隔离记录',
    lead: '本地区数据提供方上报、未通过校验而被隔离的记录及其原因。隔离记录不计入任何账户；由数据提供方更正后重新上报，同一记录号的更正记录会替代隔离记录。',
    reasonFilter: '原因',
    anyReason: '全部原因',
    none: '没有隔离记录',
  },
}

export type QuarantineMessages = typeof quarantineZhCN
export default quarantineZhCN
