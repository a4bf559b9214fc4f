//! Report words in English or Japanese, kept as data: the messages in `messages/{en,ja}.toml`
//! and the criterion titles, texts and advice in the profile's companion files
//! (`profiles/jc-star-1.{en,ja}.toml`, or `FILE.{en,ja}.toml` beside a profile `FILE.toml`).

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;

use jcstar_model::error::{line_of_offset, InputError, Origin};
use jcstar_model::profile::{Evaluation, BUILTIN_NAME};
use jcstar_model::Verdict;

use crate::readiness::ReadinessVerdict;

const MESSAGES_EN: &str = include_str!("../messages/en.toml");
const MESSAGES_JA: &str = include_str!("../messages/ja.toml");
const BUILTIN_EN: &str = include_str!("../../../profiles/jc-star-1.en.toml");
const BUILTIN_JA: &str = include_str!("../../../profiles/jc-star-1.ja.toml");

/// A report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Japanese.
    Ja,
}

impl Lang {
    /// The code used on the command line and in file names: `en`, `ja`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ja" | "jp" => Ok(Lang::Ja),
            other => Err(format!("unknown language {other:?}; use en or ja")),
        }
    }
}

type Messages = BTreeMap<String, BTreeMap<String, String>>;

/// A profile companion file: per-language criterion texts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileTextsFile {
    #[serde(default)]
    profile: Option<ProfileTitle>,
    #[serde(default)]
    criteria: Vec<CriterionText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileTitle {
    title: String,
}

/// One criterion's words in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionText {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    advice: Option<String>,
}

/// Every word a report shows, in one language.
#[derive(Debug, Clone)]
pub struct Texts {
    lang: Lang,
    messages: Messages,
    english: Messages,
    profile_title: Option<String>,
    criteria: BTreeMap<String, CriterionText>,
}

fn parse_messages(text: &str) -> Messages {
    // The embedded files are checked by unit tests; a parse failure is a build defect.
    toml::from_str(text).unwrap_or_else(|e| panic!("embedded messages are invalid: {e}"))
}

fn parse_profile_texts(text: &str, origin: Origin) -> Result<ProfileTextsFile, InputError> {
    toml::from_str(text).map_err(|e| {
        let origin = match (&origin.file, e.span()) {
            (Some(file), Some(span)) => {
                Origin::file_line(Path::new(file), line_of_offset(text, span.start))
            }
            _ => origin,
        };
        InputError::new(
            origin,
            format!(
                "{}; fix the file or remove it to use the profile's English texts",
                e.message()
            ),
        )
    })
}

impl Texts {
    /// The texts for `lang` and the profile given as `profile_arg` (the built-in name or a
    /// profile file, whose `FILE.<lang>.toml` companion is read when it exists).
    pub fn load(lang: Lang, profile_arg: &str) -> Result<Texts, InputError> {
        let file = if profile_arg == BUILTIN_NAME {
            let text = match lang {
                Lang::En => BUILTIN_EN,
                Lang::Ja => BUILTIN_JA,
            };
            parse_profile_texts(text, Origin::file(Path::new("built-in profile texts")))?
        } else {
            let companion = Path::new(profile_arg).with_extension(format!("{}.toml", lang.code()));
            match std::fs::read_to_string(&companion) {
                Ok(text) => parse_profile_texts(&text, Origin::file(&companion))?,
                Err(_) => ProfileTextsFile::default(),
            }
        };
        Ok(Texts::from_parts(lang, file))
    }

    /// The texts for `lang` and the built-in ★1 profile.
    pub fn builtin(lang: Lang) -> Texts {
        match Texts::load(lang, BUILTIN_NAME) {
            Ok(texts) => texts,
            Err(e) => panic!("embedded profile texts are invalid: {e}"),
        }
    }

    fn from_parts(lang: Lang, file: ProfileTextsFile) -> Texts {
        let messages = parse_messages(match lang {
            Lang::En => MESSAGES_EN,
            Lang::Ja => MESSAGES_JA,
        });
        Texts {
            lang,
            messages,
            english: parse_messages(MESSAGES_EN),
            profile_title: file.profile.map(|p| p.title),
            criteria: file
                .criteria
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect(),
        }
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// A message by table and key, falling back to English, then to the key itself.
    pub fn get<'a>(&'a self, table: &str, key: &'a str) -> &'a str {
        [&self.messages, &self.english]
            .iter()
            .find_map(|m| m.get(table).and_then(|t| t.get(key)))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// A `[ui]` message.
    pub fn ui<'a>(&'a self, key: &'a str) -> &'a str {
        self.get("ui", key)
    }

    /// A message with `{name}` placeholders filled in.
    pub fn fill(&self, table: &str, key: &str, values: &[(&str, String)]) -> String {
        let mut text = self.get(table, key).to_string();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// A verdict's name.
    pub fn verdict(&self, verdict: Verdict) -> &str {
        self.get("verdict", verdict.as_str())
    }

    /// A verdict in one plain sentence.
    pub fn verdict_meaning(&self, verdict: Verdict) -> &str {
        self.get("verdict_meaning", verdict.as_str())
    }

    /// What to do about a verdict, in general.
    pub fn verdict_todo(&self, verdict: Verdict) -> &str {
        self.get("verdict_todo", verdict.as_str())
    }

    /// A readiness verdict's words.
    pub fn readiness(&self, verdict: ReadinessVerdict) -> &str {
        self.get("readiness", readiness_key(verdict))
    }

    /// An official evaluation type's words.
    pub fn evaluation(&self, evaluation: Evaluation) -> &str {
        let key = match evaluation {
            Evaluation::Document => "document",
            Evaluation::Device => "device",
            Evaluation::Both => "both",
            Evaluation::Unconfirmed => "unconfirmed",
        };
        self.get("evaluation", key)
    }

    /// The profile title in this language, if the companion file gives one.
    pub fn profile_title(&self) -> Option<&str> {
        self.profile_title.as_deref()
    }

    /// A criterion's title in this language, else `fallback` (the profile's).
    pub fn criterion_title<'a>(&'a self, id: &str, fallback: &'a str) -> &'a str {
        self.criteria
            .get(id)
            .and_then(|c| c.title.as_deref())
            .unwrap_or(fallback)
    }

    /// A criterion's text in this language, else `fallback` (the profile's).
    pub fn criterion_text<'a>(&'a self, id: &str, fallback: &'a str) -> &'a str {
        self.criteria
            .get(id)
            .and_then(|c| c.text.as_deref())
            .unwrap_or(fallback)
    }

    /// What to do about a criterion that does not pass, if the profile texts say.
    pub fn criterion_advice(&self, id: &str) -> Option<&str> {
        self.criteria.get(id).and_then(|c| c.advice.as_deref())
    }
}

/// The snake_case name of a readiness verdict, as in `results.json`.
pub fn readiness_key(verdict: ReadinessVerdict) -> &'static str {
    match verdict {
        ReadinessVerdict::NotReady => "not_ready",
        ReadinessVerdict::NeedsEvidence => "needs_evidence",
        ReadinessVerdict::ReadyForSelfAssessment => "ready_for_self_assessment",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jcstar_model::profile::Profile;

    fn keys(messages: &Messages) -> Vec<String> {
        messages
            .iter()
            .flat_map(|(table, keys)| keys.keys().map(move |k| format!("{table}.{k}")))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_message_keys() {
        assert_eq!(
            keys(&parse_messages(MESSAGES_EN)),
            keys(&parse_messages(MESSAGES_JA))
        );
    }

    #[test]
    fn every_builtin_criterion_has_japanese_title_text_and_advice_in_both_languages() {
        let profile = Profile::builtin();
        let ja = Texts::builtin(Lang::Ja);
        let en = Texts::builtin(Lang::En);
        for c in &profile.criteria {
            let title = ja.criterion_title(&c.id, &c.title);
            assert_ne!(title, c.title, "{} has no Japanese title", c.id);
            assert!(!title.is_ascii(), "{}: {title}", c.id);
            assert_ne!(ja.criterion_text(&c.id, &c.text), c.text, "{}", c.id);
            assert!(ja.criterion_advice(&c.id).is_some(), "{}", c.id);
            assert!(en.criterion_advice(&c.id).is_some(), "{}", c.id);
            assert_eq!(en.criterion_title(&c.id, &c.title), c.title);
        }
        assert_eq!(ja.verdict(Verdict::Pass), "合格");
        assert_eq!(en.verdict(Verdict::NotApplicable), "not applicable");
        assert_eq!(ja.readiness(ReadinessVerdict::NeedsEvidence), "証跡不足");
    }

    #[test]
    fn a_profile_file_reads_its_companion_and_a_broken_one_names_the_file() {
        let dir = std::env::temp_dir().join(format!("jcstar-texts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let profile = dir.join("mine.toml");
        std::fs::write(
            dir.join("mine.ja.toml"),
            "[[criteria]]\nid = \"S1.1-01\"\ntitle = \"独自の題\"\n",
        )
        .expect("write");
        let texts = Texts::load(Lang::Ja, profile.to_str().expect("utf-8")).expect("load");
        assert_eq!(texts.criterion_title("S1.1-01", "x"), "独自の題");
        assert_eq!(texts.criterion_title("S1.1-02", "fallback"), "fallback");
        let english = Texts::load(Lang::En, profile.to_str().expect("utf-8")).expect("load");
        assert_eq!(english.criterion_title("S1.1-01", "x"), "x");
        std::fs::write(dir.join("mine.ja.toml"), "[[criteria]]\nid = 1\n").expect("write");
        let error = Texts::load(Lang::Ja, profile.to_str().expect("utf-8"))
            .expect_err("broken")
            .to_string();
        assert!(error.contains("mine.ja.toml:2:"), "{error}");
        assert!(!error.contains('\n'), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn language_codes_parse_and_unknown_ones_say_what_to_use() {
        assert_eq!("ja".parse::<Lang>(), Ok(Lang::Ja));
        assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().expect_err("fr").contains("en or ja"));
    }
}
