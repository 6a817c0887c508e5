//! One spec per usage report function: its name, the parameters Graph accepts, and the exact
//! CSV column list of its learn.microsoft.com page (contract §2.2, checked by the tests).

/// Which parameter forms a report function has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Params {
    /// `(period='Dn')` or `(date=YYYY-MM-DD)`.
    PeriodOrDate,
    /// `(period='Dn')` only.
    Period,
    /// No parameter at all.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ActiveUserDetail,
    ActiveUserCounts,
    ActivationsUserDetail,
    EmailActivityUserDetail,
    EmailActivityCounts,
    MailboxUsageDetail,
    MailboxUsageMailboxCounts,
    MailboxUsageStorage,
    OneDriveUsageAccountDetail,
    SharePointSiteUsageDetail,
    TeamsUserActivityUserDetail,
}

#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub params: Params,
    pub columns: &'static [&'static str],
    /// The learn.microsoft.com page (`learn.microsoft.com/graph/api/<doc>`).
    pub doc: &'static str,
}

impl Spec {
    /// Whether rows are one per user (streamed in chunks) rather than per day or site.
    pub fn per_user(&self) -> bool {
        !matches!(
            self.kind,
            Kind::ActiveUserCounts
                | Kind::EmailActivityCounts
                | Kind::MailboxUsageMailboxCounts
                | Kind::MailboxUsageStorage
                | Kind::SharePointSiteUsageDetail
        )
    }
}

pub static REPORTS: &[Spec] = &[
    // learn.microsoft.com/graph/api/reportroot-getoffice365activeuserdetail
    Spec {
        name: "getOffice365ActiveUserDetail",
        kind: Kind::ActiveUserDetail,
        params: Params::PeriodOrDate,
        columns: &[
            "Report Refresh Date",
            "User Principal Name",
            "Display Name",
            "Is Deleted",
            "Deleted Date",
            "Has Exchange License",
            "Has OneDrive License",
            "Has SharePoint License",
            "Has Skype For Business License",
            "Has Yammer License",
            "Has Teams License",
            "Exchange Last Activity Date",
            "OneDrive Last Activity Date",
            "SharePoint Last Activity Date",
            "Skype For Business Last Activity Date",
            "Yammer Last Activity Date",
            "Teams Last Activity Date",
            "Exchange License Assign Date",
            "OneDrive License Assign Date",
            "SharePoint License Assign Date",
            "Skype For Business License Assign Date",
            "Yammer License Assign Date",
            "Teams License Assign Date",
            "Assigned Products",
        ],
        doc: "reportroot-getoffice365activeuserdetail",
    },
    // learn.microsoft.com/graph/api/reportroot-getoffice365activeusercounts (period only)
    Spec {
        name: "getOffice365ActiveUserCounts",
        kind: Kind::ActiveUserCounts,
        params: Params::Period,
        columns: &[
            "Report Refresh Date",
            "Office 365",
            "Exchange",
            "OneDrive",
            "SharePoint",
            "Skype For Business",
            "Yammer",
            "Teams",
            "Report Date",
            "Report Period",
        ],
        doc: "reportroot-getoffice365activeusercounts",
    },
    // learn.microsoft.com/graph/api/reportroot-getoffice365activationsuserdetail (no parameter)
    Spec {
        name: "getOffice365ActivationsUserDetail",
        kind: Kind::ActivationsUserDetail,
        params: Params::None,
        columns: &[
            "Report Refresh Date",
            "User Principal Name",
            "Display Name",
            "Product Type",
            "Last Activated Date",
            "Windows",
            "Mac",
            "Windows 10 Mobile",
            "iOS",
            "Android",
            "Activated On Shared Computer",
        ],
        doc: "reportroot-getoffice365activationsuserdetail",
    },
    // learn.microsoft.com/graph/api/reportroot-getemailactivityuserdetail
    Spec {
        name: "getEmailActivityUserDetail",
        kind: Kind::EmailActivityUserDetail,
        params: Params::PeriodOrDate,
        columns: &[
            "Report Refresh Date",
            "User Principal Name",
            "Display Name",
            "Is Deleted",
            "Deleted Date",
            "Last Activity Date",
            "Send Count",
            "Receive Count",
            "Read Count",
            "Meeting Created Count",
            "Meeting Interacted Count",
            "Assigned Products",
            "Report Period",
        ],
        doc: "reportroot-getemailactivityuserdetail",
    },
    // learn.microsoft.com/graph/api/reportroot-getemailactivitycounts (period only; the
    // revision read lists Send, Receive, Read).
    Spec {
        name: "getEmailActivityCounts",
        kind: Kind::EmailActivityCounts,
        params: Params::Period,
        columns: &[
            "Report Refresh Date",
            "Send",
            "Receive",
            "Read",
            "Report Date",
            "Report Period",
        ],
        doc: "reportroot-getemailactivitycounts",
    },
    // learn.microsoft.com/graph/api/reportroot-getmailboxusagedetail (period only)
    Spec {
        name: "getMailboxUsageDetail",
        kind: Kind::MailboxUsageDetail,
        params: Params::Period,
        columns: &[
            "Report Refresh Date",
            "User Principal Name",
            "Display Name",
            "Is Deleted",
            "Deleted Date",
            "Created Date",
            "Last Activity Date",
            "Item Count",
            "Storage Used (Byte)",
            "Issue Warning Quota (Byte)",
            "Prohibit Send Quota (Byte)",
            "Prohibit Send/Receive Quota (Byte)",
            "Deleted Item Count",
            "Deleted Item Size (Byte)",
            "Deleted Item Quota (Byte)",
            "Has Archive",
            "Report Period",
        ],
        doc: "reportroot-getmailboxusagedetail",
    },
    // learn.microsoft.com/graph/api/reportroot-getmailboxusagemailboxcounts (period only)
    Spec {
        name: "getMailboxUsageMailboxCounts",
        kind: Kind::MailboxUsageMailboxCounts,
        params: Params::Period,
        columns: &["Report Refresh Date", "Total", "Active", "Report Date", "Report Period"],
        doc: "reportroot-getmailboxusagemailboxcounts",
    },
    // learn.microsoft.com/graph/api/reportroot-getmailboxusagestorage (period only)
    Spec {
        name: "getMailboxUsageStorage",
        kind: Kind::MailboxUsageStorage,
        params: Params::Period,
        columns: &[
            "Report Refresh Date",
            "Storage Used (Byte)",
            "Report Date",
            "Report Period",
        ],
        doc: "reportroot-getmailboxusagestorage",
    },
    // learn.microsoft.com/graph/api/reportroot-getonedriveusageaccountdetail
    Spec {
        name: "getOneDriveUsageAccountDetail",
        kind: Kind::OneDriveUsageAccountDetail,
        params: Params::PeriodOrDate,
        columns: &[
            "Report Refresh Date",
            "Site URL",
            "Owner Display Name",
            "Is Deleted",
            "Last Activity Date",
            "File Count",
            "Active File Count",
            "Storage Used (Byte)",
            "Storage Allocated (Byte)",
            "Owner Principal Name",
            "Report Period",
        ],
        doc: "reportroot-getonedriveusageaccountdetail",
    },
    // learn.microsoft.com/graph/api/reportroot-getsharepointsiteusagedetail
    Spec {
        name: "getSharePointSiteUsageDetail",
        kind: Kind::SharePointSiteUsageDetail,
        params: Params::PeriodOrDate,
        columns: &[
            "Report Refresh Date",
            "Site Id",
            "Site URL",
            "Owner Display Name",
            "Is Deleted",
            "Last Activity Date",
            "File Count",
            "Active File Count",
            "Page View Count",
            "Visited Page Count",
            "Storage Used (Byte)",
            "Storage Allocated (Byte)",
            "Root Web Template",
            "Owner Principal Name",
            "Report Period",
        ],
        doc: "reportroot-getsharepointsiteusagedetail",
    },
    // learn.microsoft.com/graph/api/reportroot-getteamsuseractivityuserdetail (ms.date 04/04/2024)
    Spec {
        name: "getTeamsUserActivityUserDetail",
        kind: Kind::TeamsUserActivityUserDetail,
        params: Params::PeriodOrDate,
        columns: &[
            "Report Refresh Date",
            "Tenant Display Name",
            "Shared Channel Tenant Display Names",
            "User Id",
            "User Principal Name",
            "Last Activity Date",
            "Is Deleted",
            "Deleted Date",
            "Assigned Products",
            "Team Chat Message Count",
            "Private Chat Message Count",
            "Call Count",
            "Meeting Count",
            "Post Messages",
            "Reply Messages",
            "Urgent Messages",
            "Meetings Organized Count",
            "Meetings Attended Count",
            "Ad Hoc Meetings Organized Count",
            "Ad Hoc Meetings Attended Count",
            "Scheduled One-time Meetings Organized Count",
            "Scheduled One-time Meetings Attended Count",
            "Scheduled Recurring Meetings Organized Count",
            "Scheduled Recurring Meetings Attended Count",
            "Audio Duration",
            "Video Duration",
            "Screen Share Duration",
            "Audio Duration In Seconds",
            "Video Duration In Seconds",
            "Screen Share Duration In Seconds",
            "Has Other Action",
            "Is Licensed",
            "Report Period",
        ],
        doc: "reportroot-getteamsuseractivityuserdetail",
    },
];

/// The spec of report function `name` (case-insensitive, as OData function names resolve [I]).
pub fn find(name: &str) -> Option<&'static Spec> {
    REPORTS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}
