// Strings of the "my data" page: export and account deletion (docs/privacy.md).
const privacyZhCN = {
  privacy: {
    nav: '我的数据',
    title: '我的数据',
    lead: '您可以随时下载平台保存的关于您的全部数据，也可以注销账户。',
    exportTitle: '导出数据',
    exportLead: '一个 JSON 文件，包含个人资料、角色、登录记录、碳账户与积分流水、绑定、每条行为记录及其减排量与计算说明、兑换券、权益申领、信用卡关联与转换、排行榜资料、方法学建议、公众建言和碳中和登记。',
    exportButton: '下载我的数据',
    exported: '已下载 {file}',
    deleteTitle: '注销账户',
    deleteLead: '注销后无法恢复：',
    consequences: {
      points: '账户中的积分全部作废；',
      vouchers: '未使用的兑换券被作废；',
      bindings: '所有绑定解除，之后的行为记录不再记入任何账户；',
      households: '您将退出所在家庭（若您是管理员，须先移除其他成员）；',
      identity: '用户名、昵称、联系方式、登录地址等个人信息被删除，您将在所有设备上退出登录；',
      kept: '已记录的减排量以匿名方式保留，用于统计和已签发的核证减排量，不再与您关联。',
    },
    password: '登录密码',
    understand: '我已了解以上后果',
    deleteButton: '注销账户',
    confirmTitle: '确认注销',
    confirmText: '确定要注销账户吗？此操作不可撤销。',
    deleted: '账户已注销：作废积分 {points}，作废兑换券 {vouchers} 张，解除绑定 {bindings} 个。',
  },
}

export type PrivacyMessages = typeof privacyZhCN
export default privacyZhCN
