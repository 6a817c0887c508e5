//! PowerShell parameter syntax → InvokeCommand's `CmdletInput` (docs/powershell-syntax.md;
//! body shape from the Exchange contract §1.3: strings, JSON booleans for switches, arrays,
//! null, `#Exchange.GenericHashTable` hashtables).

use serde_json::{json, Value};
use tenantctl_core::pwsh::{from_json, parse_args, parse_line, CmdletCall, PwshError};

fn argv(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

fn params(call: &CmdletCall) -> Value {
    Value::Object(call.parameters.clone())
}

/// One command line → the `Parameters` object it sends.
#[test]
fn command_lines_become_parameters() {
    let ht = "#Exchange.GenericHashTable";
    let rows: &[(&str, Value)] = &[
        ("Get-Mailbox", json!({})),
        ("Get-Mailbox -ResultSize Unlimited", json!({"ResultSize": "Unlimited"})),
        ("Get-Mailbox -Identity 'john doe'", json!({"Identity": "john doe"})),
        ("Get-Mailbox -Identity \"john doe\"", json!({"Identity": "john doe"})),
        ("Get-Mailbox -Archive", json!({"Archive": true})),
        (
            "Get-Mailbox -Archive -ResultSize 10",
            json!({"Archive": true, "ResultSize": 10}),
        ),
        (
            "Get-Mailbox -ResultSize 10 -Archive",
            json!({"ResultSize": 10, "Archive": true}),
        ),
        (
            "Set-Mailbox -Identity x -HiddenFromAddressListsEnabled:$true",
            json!({"Identity": "x", "HiddenFromAddressListsEnabled": true}),
        ),
        ("Get-Mailbox -Archive:$false", json!({"Archive": false})),
        ("Get-Mailbox -Archive: $false", json!({"Archive": false})),
        ("Get-Mailbox -ResultSize:50", json!({"ResultSize": 50})),
        (
            "Set-Mailbox -Identity x -ForwardingAddress $null",
            json!({"Identity": "x", "ForwardingAddress": null}),
        ),
        (
            "Set-Mailbox -Identity x -Flag $TRUE",
            json!({"Identity": "x", "Flag": true}),
        ),
        ("Set-Thing -Offset -5", json!({"Offset": -5})),
        (
            "Set-Mailbox -Identity x -IssueWarningQuota 1GB",
            json!({"Identity": "x", "IssueWarningQuota": 1_073_741_824}),
        ),
        (
            "Set-Mailbox -Identity x -MaxSendSize 35MB",
            json!({"Identity": "x", "MaxSendSize": 36_700_160}),
        ),
        ("Get-Mailbox -Identity '10'", json!({"Identity": "10"})),
        ("Get-Mailbox -Identity 007", json!({"Identity": "007"})),
        ("Get-Mailbox -Identity 1.5", json!({"Identity": "1.5"})),
        (
            "Get-Mailbox -Identity 99999999999999999999",
            json!({"Identity": "99999999999999999999"}),
        ),
        (
            "Get-Mailbox -RecipientTypeDetails UserMailbox,SharedMailbox",
            json!({"RecipientTypeDetails": ["UserMailbox", "SharedMailbox"]}),
        ),
        (
            "Get-Mailbox -RecipientTypeDetails UserMailbox, SharedMailbox",
            json!({"RecipientTypeDetails": ["UserMailbox", "SharedMailbox"]}),
        ),
        (
            "Get-Mailbox -RecipientTypeDetails 'UserMailbox','SharedMailbox'",
            json!({"RecipientTypeDetails": ["UserMailbox", "SharedMailbox"]}),
        ),
        (
            "Get-Mailbox -RecipientTypeDetails @('UserMailbox', 'SharedMailbox')",
            json!({"RecipientTypeDetails": ["UserMailbox", "SharedMailbox"]}),
        ),
        (
            "Get-Mailbox -RecipientTypeDetails @('UserMailbox')",
            json!({"RecipientTypeDetails": ["UserMailbox"]}),
        ),
        ("Set-Thing -List @()", json!({"List": []})),
        ("Set-Thing -Ports 25,587", json!({"Ports": [25, 587]})),
        ("Get-Mailbox -Identity 'it''s'", json!({"Identity": "it's"})),
        (
            "Get-Mailbox -Identity \"say `\"hi`\"\"",
            json!({"Identity": "say \"hi\""}),
        ),
        ("Set-Thing -Text \"a`nb`tc\"", json!({"Text": "a\nb\tc"})),
        ("Set-Thing -Text 'a`nb'", json!({"Text": "a`nb"})),
        ("Set-Thing -Text \"cost $5\"", json!({"Text": "cost $5"})),
        (
            "Set-Thing -Text \"she said \"\"no\"\"\"",
            json!({"Text": "she said \"no\""}),
        ),
        ("Get-Mailbox -Identity john' 'doe", json!({"Identity": "john doe"})),
        ("Get-Mailbox -Identity 'a,b'", json!({"Identity": "a,b"})),
        (
            "Set-Mailbox -Identity x -EmailAddresses @{Add='x@contoso.com'; Remove='z@contoso.com'}",
            json!({"Identity": "x", "EmailAddresses": {"@odata.type": ht, "Add": "x@contoso.com", "Remove": "z@contoso.com"}}),
        ),
        (
            "Set-Mailbox -Identity x -EmailAddresses @{Add='a@c.com','b@c.com'}",
            json!({"Identity": "x", "EmailAddresses": {"@odata.type": ht, "Add": ["a@c.com", "b@c.com"]}}),
        ),
        (
            "Set-Thing -T @{ Count = 10; On = $true; 'Odd Key' = $null }",
            json!({"T": {"@odata.type": ht, "Count": 10, "On": true, "Odd Key": null}}),
        ),
        (
            "Get-Recipient -Filter {RecipientTypeDetails -eq 'SharedMailbox'}",
            json!({"Filter": "RecipientTypeDetails -eq 'SharedMailbox'"}),
        ),
        (
            "Get-Recipient -Filter \"Name -like 'j*'\"",
            json!({"Filter": "Name -like 'j*'"}),
        ),
        (
            "  Get-Mailbox   -ResultSize\tUnlimited  ",
            json!({"ResultSize": "Unlimited"}),
        ),
        (
            "Get-Mailbox -ResultSize Unlimited # all of them",
            json!({"ResultSize": "Unlimited"}),
        ),
        ("get-mailbox -resultsize unlimited", json!({"resultsize": "unlimited"})),
        (
            "Get-Mailbox -Identity x@contoso.com",
            json!({"Identity": "x@contoso.com"}),
        ),
        // Pasted from a document: PowerShell reads typographic dashes and quotes as its own.
        (
            "Get-Mailbox \u{2013}Identity \u{2018}john doe\u{2019}",
            json!({"Identity": "john doe"}),
        ),
        (
            "Get-Mailbox \u{2014}Identity \u{201c}john doe\u{201d}",
            json!({"Identity": "john doe"}),
        ),
        (
            "Set-User -Identity x -DisplayName 'Sales \u{2014} EMEA'",
            json!({"Identity": "x", "DisplayName": "Sales \u{2014} EMEA"}),
        ),
    ];
    assert!(rows.len() >= 30);
    for (line, expected) in rows {
        let call = parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(&params(&call), expected, "{line}");
    }
}

#[test]
fn names_keep_the_users_case_and_order() {
    let call = parse_line("Get-EXOMailbox -resultSize 5 -Identity x").unwrap();
    assert_eq!(call.name, "Get-EXOMailbox");
    let keys: Vec<&str> = call.parameters.keys().map(String::as_str).collect();
    assert_eq!(keys, ["resultSize", "Identity"]);
    assert_eq!(call.param("RESULTSIZE"), Some(&json!(5)));
    assert_eq!(call.param("identity"), Some(&json!("x")));
    assert_eq!(call.param("Archive"), None);
}

/// argv as the shell split it → the same parameters; elements are not re-split except for
/// PowerShell forms.
#[test]
fn argv_elements_become_parameters() {
    let ht = "#Exchange.GenericHashTable";
    let rows: &[(&[&str], Value)] = &[
        (&["Get-Mailbox"], json!({})),
        (
            &["Get-Mailbox", "-ResultSize", "Unlimited", "-Archive"],
            json!({"ResultSize": "Unlimited", "Archive": true}),
        ),
        (
            &["Get-Mailbox", "-Identity", "john doe"],
            json!({"Identity": "john doe"}),
        ),
        (&["Get-Mailbox", "-Archive:$false"], json!({"Archive": false})),
        (&["Get-Mailbox", "-Archive", "$true"], json!({"Archive": true})),
        (
            &["Set-Mailbox", "-ForwardingAddress", "$null"],
            json!({"ForwardingAddress": null}),
        ),
        (&["Get-Mailbox", "-ResultSize", "10"], json!({"ResultSize": 10})),
        (&["Set-Thing", "-Offset", "-5"], json!({"Offset": -5})),
        (&["Get-Mailbox", "-Identity", "'10'"], json!({"Identity": "10"})),
        (
            &["Get-Mailbox", "-RecipientTypeDetails", "UserMailbox,SharedMailbox"],
            json!({"RecipientTypeDetails": ["UserMailbox", "SharedMailbox"]}),
        ),
        (
            &[
                "Get-Mailbox",
                "-RecipientTypeDetails",
                "@('UserMailbox','SharedMailbox')",
            ],
            json!({"RecipientTypeDetails": ["UserMailbox", "SharedMailbox"]}),
        ),
        (
            &["Get-Mailbox", "-Identity", "'Doe, John'"],
            json!({"Identity": "Doe, John"}),
        ),
        (
            &["Set-Mailbox", "-EmailAddresses", "@{Add='x@y.com'; Remove='z'}"],
            json!({"EmailAddresses": {"@odata.type": ht, "Add": "x@y.com", "Remove": "z"}}),
        ),
        // Not a whole list: kept as typed (a filter with a comma inside quotes).
        (
            &["Get-Recipient", "-Filter", "Name -like 'a,b'"],
            json!({"Filter": "Name -like 'a,b'"}),
        ),
        // No re-tokenising of plain elements: quotes and backticks inside stay.
        (
            &["Get-Recipient", "-Filter", "Name -eq \"x`y\""],
            json!({"Filter": "Name -eq \"x`y\""}),
        ),
        (&["Get-Mailbox", "-Identity:john doe"], json!({"Identity": "john doe"})),
        (&["Get-Mailbox", "\u{2013}Identity", "x"], json!({"Identity": "x"})),
        (
            &["Get-User", "-Identity", "O\u{2019}Brien"],
            json!({"Identity": "O\u{2019}Brien"}),
        ),
    ];
    for (args, expected) in rows {
        let call = parse_args(&argv(args)).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(&params(&call), expected, "{args:?}");
    }
}

#[test]
fn a_single_argument_with_spaces_is_one_command_line() {
    let call = parse_args(&argv(&["Get-Mailbox -Identity 'john doe' -ResultSize Unlimited"])).unwrap();
    assert_eq!(call.name, "Get-Mailbox");
    assert_eq!(
        params(&call),
        json!({"Identity": "john doe", "ResultSize": "Unlimited"})
    );
}

#[test]
fn the_body_is_invoke_commands_cmdlet_input() {
    let call = parse_args(&argv(&[
        "Get-Mailbox",
        "-ResultSize",
        "Unlimited",
        "-RecipientTypeDetails",
        "UserMailbox,SharedMailbox",
    ]))
    .unwrap();
    assert_eq!(
        call.to_body(),
        json!({"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited","RecipientTypeDetails":["UserMailbox","SharedMailbox"]}}})
    );
    assert_eq!(
        parse_line("Get-OrganizationConfig").unwrap().to_body(),
        json!({"CmdletInput":{"CmdletName":"Get-OrganizationConfig","Parameters":{}}}),
        "CIPP sends Parameters {{}} when there are none"
    );
}

#[test]
fn verbs_and_read_only_cmdlets() {
    let ro = |s: &str| parse_line(s).unwrap().is_read_only();
    assert_eq!(parse_line("Get-Mailbox").unwrap().verb(), "Get");
    assert_eq!(parse_line("set-Mailbox -Identity x").unwrap().verb(), "set");
    assert!(ro("Get-Mailbox"));
    assert!(ro("get-mailboxstatistics -Identity x"));
    assert!(ro("Search-UnifiedAuditLog -StartDate 2026-11-01 -EndDate 2026-11-02"));
    assert!(ro("Test-OAuthConnectivity -Service EWS"));
    for w in [
        "Set-Mailbox",
        "New-MailContact",
        "Remove-Mailbox",
        "Add-MailboxPermission",
        "Enable-Mailbox",
        "Export-QuarantineMessage",
        "Search-Mailbox",
        "Test-Message",
        "Start-ManagedFolderAssistant",
    ] {
        assert!(!ro(w), "{w} changes or hands out data");
    }
}

#[test]
fn params_json_takes_any_json_values() {
    let call = from_json("Set-Mailbox", r##"{"Identity":"x","HiddenFromAddressListsEnabled":true,"EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":["a@c.com"]},"ForwardingAddress":null,"RetainDeletedItemsFor":"30.00:00:00"}"##).unwrap();
    assert_eq!(call.name, "Set-Mailbox");
    assert_eq!(call.param("hiddenfromaddresslistsenabled"), Some(&json!(true)));
    assert_eq!(call.param("ForwardingAddress"), Some(&Value::Null));
    assert_eq!(call.parameters.len(), 5);
    assert!(matches!(from_json("Get-Mailbox", "[1]"), Err(PwshError::Json { .. })));
    assert!(matches!(from_json("Get-Mailbox", "{"), Err(PwshError::Json { .. })));
    assert!(matches!(
        from_json("Get-Mailbox", r#"{"-Identity":"x"}"#),
        Err(PwshError::Json { .. })
    ));
    assert!(matches!(
        from_json("Get-Mailbox", r#"{"Identity":"x","identity":"y"}"#),
        Err(PwshError::Duplicate { .. })
    ));
    assert!(matches!(
        from_json("Mailbox", "{}"),
        Err(PwshError::BadCmdletName { .. })
    ));
    assert_eq!(from_json("Get-Mailbox", "{}").unwrap().parameters.len(), 0);
}

/// Each error names the offending token and says what to write instead.
#[test]
fn errors_name_the_token_and_the_fix() {
    let line = |s: &str| parse_line(s).unwrap_err();
    let args = |s: &[&str]| parse_args(&argv(s)).unwrap_err();
    let cases: Vec<(PwshError, &[&str])> = vec![
        (line(""), &["no cmdlet", "Get-Mailbox"]),
        (args(&[]), &["no cmdlet"]),
        (line("Mailbox"), &["'Mailbox'", "Verb-Noun", "Get-Mailbox?"]),
        (line("Get_Mailbox -X y"), &["'Get_Mailbox'", "Verb-Noun"]),
        (line("Get-Mailbox; Get-User"), &["'Get-Mailbox;'", "Verb-Noun"]),
        (
            args(&["Get-Mailbox -Identity x", "-ResultSize", "1"]),
            &["only argument"],
        ),
        (line("-Identity x Get-Mailbox"), &["'-Identity'", "comes first"]),
        (
            args(&["Get-Mailbox", "--tenant", "x"]),
            &["'--tenant'", "tenantctl", "before the cmdlet", "-Identity"],
        ),
        (line("Get-Mailbox --all"), &["'--all'", "tenantctl"]),
        (args(&["--all", "Get-Mailbox"]), &["'--all'"]),
        (line("Get-Mailbox john"), &["'john'", "-Identity john"]),
        (args(&["Get-Mailbox", "john"]), &["'john'", "-Identity john"]),
        (
            line("Get-Mailbox -Identity a -Archive x y"),
            &["'y'", "name the parameter"],
        ),
        (
            line("Get-Mailbox -Identity a -identity b"),
            &["-identity", "twice", "a,b"],
        ),
        (args(&["Get-Mailbox", "-Archive", "-archive:$false"]), &["twice"]),
        (args(&["Get-Mailbox", "-Archive:"]), &["-Archive", "'-Archive:$false'"]),
        (line("Get-Mailbox -Archive:"), &["-Archive", "after the colon"]),
        (line("Get-Mailbox -Identity 'john"), &["single-quoted", "'john", "'"]),
        (line("Get-Mailbox -Identity \"john"), &["double-quoted", "\""]),
        (line("Get-Mailbox -X @('a','b'"), &["array @(", ")"]),
        (line("Set-Mailbox -X @{Add='a'"), &["hashtable @{", "}"]),
        (line("Set-Mailbox -X @{Add}"), &["'Add'", "no '='", "@{Add="]),
        (line("Set-Mailbox -X @{Add=}"), &["no value", "@{Add="]),
        (line("Set-Mailbox -X @{Add='a'; add='b'}"), &["'add'", "twice"]),
        (line("Get-Mailbox -Identity $user"), &["'$user'", "variables"]),
        (args(&["Get-Mailbox", "-X", "@('a'"]), &["array @("]),
        (line("Get-Mailbox | Select Name"), &["'|'", "pipelines", "--select"]),
        (line("Get-Mailbox > out.txt"), &["'>'", "--out"]),
        (line("Get-Mailbox -Identity $(whoami)"), &["'$('", "subexpressions"]),
        (line("Get-Mailbox -X a,"), &["empty item"]),
        (line("Get-Mailbox -X a,,b"), &["empty item"]),
        (line("Get-Mailbox -Ide.ntity x"), &["'-Ide.ntity'", "letters, digits"]),
        (args(&["Get-Mailbox", "-Ide=x"]), &["'-Ide=x'"]),
        (line("Get-Mailbox -X a)"), &["unexpected ')'"]),
    ];
    for (err, needles) in cases {
        let msg = err.to_string();
        for n in needles {
            assert!(msg.contains(n), "{msg:?} should contain {n:?}");
        }
    }
}

#[test]
fn trailing_names_are_switches_and_negative_numbers_are_values() {
    let call = parse_args(&argv(&["Get-Mailbox", "-Identity", "x", "-Archive"])).unwrap();
    assert_eq!(call.param("Archive"), Some(&json!(true)));
    let call = parse_line("Set-Thing -Delta -5 -Force").unwrap();
    assert_eq!(params(&call), json!({"Delta": -5, "Force": true}));
}
