//! Why a setting cannot be used. Messages name the variable and the fix; the value is
//! shown only for settings the catalogue does not mark secret.

/// A setting that cannot be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// An `ORGPOOL_*` or `SALESFORCE_*` variable the catalogue does not list.
    #[error("{name} is not a setting orgpool knows; {}", unknown_hint(*.nearest))]
    Unknown {
        /// The variable.
        name: String,
        /// The known name closest to it, when one is close enough to be the intended one.
        nearest: Option<&'static str>,
    },
    /// A required variable is unset.
    #[error("{name} is not set: {fix}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// A variable holds something unusable.
    #[error("{name} is invalid: {problem}")]
    Invalid {
        /// The variable.
        name: String,
        /// What is wrong and how to fix it (without the value of a secret).
        problem: String,
    },
}

fn unknown_hint(nearest: Option<&str>) -> String {
    match nearest {
        Some(n) => format!(
            "did you mean {n}? (rename it, or unset it; docs/settings.md lists every setting)"
        ),
        None => "unset it or rename it to one docs/settings.md lists".into(),
    }
}

impl SettingsError {
    /// An [`SettingsError::Invalid`] for `name`.
    pub fn invalid(name: &str, problem: impl Into<String>) -> SettingsError {
        SettingsError::Invalid {
            name: name.to_string(),
            problem: problem.into(),
        }
    }
}
