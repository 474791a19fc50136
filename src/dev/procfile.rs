//! The Procfile (`name: command` per line, as Heroku reads it) and the `--scale`
//! option (`worker=3,web=1`): parsed and checked, every error naming the line or the
//! entry and the fix.

use std::collections::BTreeMap;

use super::DevError;

/// One process type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessType {
    /// `web`, `worker`, ...
    pub name: String,
    /// The shell command.
    pub command: String,
}

/// A parsed Procfile, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procfile {
    /// The process types.
    pub types: Vec<ProcessType>,
}

/// The type Heroku runs once before a release instead of keeping it running.
pub const RELEASE: &str = "release";

impl Procfile {
    /// Parses `text` (from `path`, for messages).
    pub fn parse(path: &str, text: &str) -> Result<Procfile, DevError> {
        let mut types: Vec<ProcessType> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, command)) = line.split_once(':') else {
                return Err(DevError::NotNameCommand {
                    path: path.into(),
                    line: i + 1,
                    text: line.into(),
                });
            };
            let (name, command) = (name.trim(), command.trim());
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(DevError::BadTypeName {
                    path: path.into(),
                    line: i + 1,
                    name: name.into(),
                });
            }
            if command.is_empty() {
                return Err(DevError::NoCommand {
                    path: path.into(),
                    line: i + 1,
                    name: name.into(),
                });
            }
            if types.iter().any(|t| t.name == name) {
                return Err(DevError::DefinedTwice {
                    path: path.into(),
                    line: i + 1,
                    name: name.into(),
                });
            }
            types.push(ProcessType {
                name: name.into(),
                command: command.into(),
            });
        }
        if types.is_empty() {
            return Err(DevError::NoTypes(path.into()));
        }
        Ok(Procfile { types })
    }

    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&ProcessType> {
        self.types.iter().find(|t| t.name == name)
    }

    /// How many of each long-running type to start: 1 each unless `scale` says
    /// otherwise (the release type is never scaled: it runs once first).
    pub fn counts(&self, scale: &[String]) -> Result<BTreeMap<String, usize>, DevError> {
        let mut counts: BTreeMap<String, usize> = self
            .types
            .iter()
            .filter(|t| t.name != RELEASE)
            .map(|t| (t.name.clone(), 1))
            .collect();
        for entry in scale.iter().flat_map(|s| s.split(',')) {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let Some((name, n)) = entry.split_once('=') else {
                return Err(DevError::ScaleSyntax(entry.into()));
            };
            let n: usize = n
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= 64)
                .ok_or_else(|| DevError::ScaleCount(entry.into()))?;
            let name = name.trim();
            match counts.get_mut(name) {
                Some(c) => *c = n,
                None => {
                    return Err(DevError::ScaleUnknownType {
                        entry: entry.into(),
                        name: name.into(),
                        known: counts.keys().cloned().collect::<Vec<_>>().join(", "),
                    });
                }
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# comment\nrelease: orgpool migrate\nweb: orgpool web\n\nworker: orgpool worker --concurrency 2\n";

    #[test]
    fn parses_and_scales() {
        let p = Procfile::parse("Procfile", TEXT).unwrap();
        assert_eq!(p.types.len(), 3);
        assert_eq!(
            p.get("worker").unwrap().command,
            "orgpool worker --concurrency 2"
        );
        let c = p.counts(&["worker=3".into()]).unwrap();
        assert_eq!(c.get("worker"), Some(&3));
        assert_eq!(c.get("web"), Some(&1));
        assert!(!c.contains_key("release"));
        let c = p.counts(&["worker=2, web=0".into()]).unwrap();
        assert_eq!((c["worker"], c["web"]), (2, 0));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Procfile::parse("Procfile", "web orgpool web\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = Procfile::parse("Procfile", "web: a\nweb: b\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("twice"), "{e}");
        let p = Procfile::parse("Procfile", TEXT).unwrap();
        let e = p.counts(&["wroker=3".into()]).unwrap_err().to_string();
        assert!(e.contains("wroker") && e.contains("worker"), "{e}");
        let e = p.counts(&["worker=many".into()]).unwrap_err().to_string();
        assert!(e.contains("whole number"), "{e}");
        let e = p.counts(&["worker".into()]).unwrap_err().to_string();
        assert!(e.contains("TYPE=COUNT"), "{e}");
    }
}
