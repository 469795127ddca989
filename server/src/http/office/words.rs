//! The office pages' words (Chinese: the district office's language): statuses, roles,
//! departments and workflow steps as the office names them.

use patrol_model::Role;
use patrol_model::domain::{Department, IssueEventKind, IssueStatus};
use patrol_model::issues::Assignee;

pub fn status(s: IssueStatus) -> &'static str {
    use IssueStatus::*;
    match s {
        Reported => "待派单",
        Assigned => "已派单",
        Returned => "已退回",
        InProgress => "处置中",
        Resolved => "已处置待核实",
        Verified => "已核实办结",
        Reopened => "重新办理",
        Duplicate => "重复合并",
        Cancelled => "已撤销",
    }
}

pub fn role(r: Role) -> &'static str {
    match r {
        Role::Chief => "街巷长",
        Role::Steward => "小巷管家",
        Role::Supervisor => "街道/区工作人员",
        Role::Crew => "城市物业",
        Role::Enforcement => "综合执法",
        Role::Public => "居民",
    }
}

pub fn department(d: Department) -> &'static str {
    match d {
        Department::CityProperty => "城市物业",
        Department::Enforcement => "综合执法",
        Department::Owner => "责任部门",
    }
}

pub fn step(k: IssueEventKind) -> &'static str {
    use IssueEventKind::*;
    match k {
        Report => "上报",
        Assign => "派单",
        Accept => "接单",
        Return => "退回",
        Resolve => "处置",
        Verify => "核实",
        Reopen => "重新办理",
        DuplicateOf => "合并重复",
        Cancel => "撤销",
    }
}

/// An assignee as the office reads it: a department's name, or a person's name when known.
pub fn assignee(a: &str, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    match a.parse::<Assignee>() {
        Ok(Assignee::Department(d)) => department(d).to_owned(),
        Ok(Assignee::User(u)) => name_of(&u.to_string()).unwrap_or_else(|| a.to_owned()),
        Err(_) => a.to_owned(),
    }
}

/// Beijing time, to the minute.
pub fn time(at_ms: i64) -> String {
    patrol_model::report::period::beijing_time_text(at_ms)
}
