//! The query language's parser: what each form means, and that every wrong
//! query says where it is wrong (never a panic).

use super::*;

fn text(field: TextField, op: TextOp, value: &str) -> Expr {
    Expr::Text {
        field,
        op,
        value: value.into(),
    }
}

#[test]
fn fields_operators_and_precedence() {
    let q = parse(r#"title =~ "rust|zig" and not tag = later or starred"#).unwrap();
    assert_eq!(
        q.expr,
        Expr::Or(
            Box::new(Expr::And(
                Box::new(text(TextField::Title, TextOp::Matches, "rust|zig")),
                Box::new(Expr::Not(Box::new(text(
                    TextField::Tag,
                    TextOp::Is,
                    "later"
                )))),
            )),
            Box::new(Expr::Flag(Flag::Starred)),
        )
    );
    let q = parse("(unread or starred) and feed contains 'Blog' and has enclosure").unwrap();
    let Expr::And(left, right) = q.expr else {
        panic!()
    };
    assert_eq!(*right, Expr::Flag(Flag::HasEnclosure));
    let Expr::And(paren, feed) = *left else {
        panic!()
    };
    assert!(matches!(*paren, Expr::Or(..)));
    assert_eq!(*feed, text(TextField::Feed, TextOp::Contains, "Blog"));
}

#[test]
fn ages_and_dates() {
    let age = |q: &str| parse(q).unwrap().expr;
    assert_eq!(
        age("age < 7d"),
        Expr::Time {
            newer: true,
            inclusive: false,
            at: TimeBound::AgeSecs(7 * 86_400)
        }
    );
    assert_eq!(
        age("age >= 12h"),
        Expr::Time {
            newer: false,
            inclusive: true,
            at: TimeBound::AgeSecs(12 * 3600)
        }
    );
    // newsboat: a bare number is days.
    assert_eq!(
        age("age > 3"),
        Expr::Time {
            newer: false,
            inclusive: false,
            at: TimeBound::AgeSecs(3 * 86_400)
        }
    );
    assert_eq!(
        age("date > 2026-11-01"),
        Expr::Time {
            newer: true,
            inclusive: false,
            at: TimeBound::Date(1_793_491_200)
        }
    );
}

#[test]
fn newsboat_queries_read_as_they_are() {
    let q = parse(r#"unread = "yes" and tags # "news" and feedtitle =~ "LWN""#).unwrap();
    let Expr::And(left, feed) = q.expr else {
        panic!()
    };
    assert_eq!(*feed, text(TextField::Feed, TextOp::Matches, "LWN"));
    let Expr::And(unread, tag) = *left else {
        panic!()
    };
    assert_eq!(*unread, Expr::Flag(Flag::Unread));
    assert_eq!(*tag, text(TextField::Tag, TextOp::Has, "news"));
    assert_eq!(
        parse(r#"unread = "no""#).unwrap().expr,
        Expr::Flag(Flag::Read)
    );
    assert_eq!(
        parse("starred != yes").unwrap().expr,
        Expr::Flag(Flag::Unstarred)
    );
}

#[test]
fn a_wrong_query_says_where() {
    let wrong = |q: &str| parse(q).unwrap_err().to_string();
    assert_eq!(wrong("title =~"), "column 9: expected a value after =~");
    assert_eq!(
        wrong("unread and title =~ "),
        "column 21: expected a value after =~"
    );
    assert!(wrong("titel = x").starts_with("column 1: unknown field `titel`"));
    assert_eq!(
        wrong("title = 'open"),
        "column 9: a text without its closing quote"
    );
    assert_eq!(
        wrong("(unread or starred"),
        "column 19: expected `)` for the `(` at column 1"
    );
    assert_eq!(wrong("unread)"), "column 7: `)` without its `(`");
    assert!(wrong("title =~ '(unclosed'").starts_with("column 10: not a regular expression"));
    assert_eq!(
        wrong("age < soon"),
        "column 7: expected an age such as 7d, 12h, 30m or 2w, found \"soon\""
    );
    assert_eq!(
        wrong("title < 3"),
        "column 7: `<` compares ages and dates; `title` is a text"
    );
    assert_eq!(
        wrong("unread starred"),
        "column 8: expected `and`, `or` or the end, found `starred`"
    );
    assert_eq!(wrong(""), "column 1: the query is empty");
    assert_eq!(
        wrong("title = x ; drop"),
        "column 11: `;` is not part of a query"
    );
    assert_eq!(
        wrong("has feelings"),
        "column 5: expected `enclosure` or `image` after `has`, found `feelings`"
    );
}

#[test]
fn no_input_makes_it_panic() {
    // Every prefix of every query above, and some noise: an error or a query, never a panic.
    let samples = [
        r#"title =~ "rust|zig" and not tag = later or starred"#,
        "(unread or starred) and feed contains 'Blog' and has enclosure",
        "date >= 2026-11-01 and age < 7d and unread = \"yes\" and tags # \"news\"",
        "((((((((((((((((((((((((((((((((title = x))))))))))))))))))))))))))))))))",
        "\"\\",
        "é ü ∑ = = = ~~ !! ## <> >< (( ))",
    ];
    for sample in samples {
        let chars: Vec<char> = sample.chars().collect();
        for end in 0..=chars.len() {
            let prefix: String = chars[..end].iter().collect();
            let _ = parse(&prefix);
        }
    }
}
