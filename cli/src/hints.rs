//! What to type next: the CLI's own hints for errors the core reports in words of the task.
//! The core never names a shell command; the CLI knows its commands and adds one where the
//! error's variant says which.

use patrol_core::Error;
use patrol_core::photos::PhotoError;
use patrol_core::signboard::SignboardError;
use patrol_core::streets::StreetsError;

/// The hint for the first core error in `e`'s chain, if there is one for it.
pub fn hint(e: &anyhow::Error) -> Option<&'static str> {
    e.chain()
        .find_map(|cause| cause.downcast_ref::<Error>())
        .and_then(hint_for)
}

fn hint_for(e: &Error) -> Option<&'static str> {
    Some(match e {
        Error::NotInitialised => {
            "set this store up with `patrol init --name NAME --role ROLE`, or enrol it with `patrol enroll --server URL --code CODE`"
        }
        Error::AlreadyInitialised { .. } | Error::StoreBelongsToAnother { .. } => {
            "give another store file with `--db PATH` for a second device"
        }
        Error::NotEnrolled => "enrol first: `patrol enroll --server URL --code CODE`",
        Error::UnknownIssue(_) => {
            "`patrol issue list` shows the issues here; `patrol issue import FILE` or `patrol sync` brings others"
        }
        Error::UnknownMerchant(_) => {
            "`patrol merchant list` shows the merchants here; `patrol merchant import FILE` or `patrol sync` brings others"
        }
        Error::UnknownPatrol(_) => "`patrol track list` shows the patrols here",
        Error::Photo(PhotoError::Unknown(_)) => "add the photo with `patrol photo add FILE`",
        Error::Streets(StreetsError::UnknownStreet(_)) => {
            "`patrol streets list` shows the streets and their ids"
        }
        Error::Streets(StreetsError::NoNetwork) => {
            "import a street network with `patrol streets import FILE`, or `patrol sync`"
        }
        Error::Signboard(SignboardError::NoDistrictKey) => {
            "`patrol sync` fetches the district's key, or trust it with `patrol signboard key --trust KEY`"
        }
        Error::KeyMissing { .. } | Error::WrongKey { .. } => {
            "the store's keys are in the `.secrets` file beside it (`--db PATH` then `PATH.secrets`); copy the two together"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_error_gets_its_command_and_others_get_none() {
        let e = anyhow::Error::new(Error::NotInitialised).context("opening the store");
        assert!(hint(&e).is_some_and(|h| h.contains("patrol init")));
        let e = anyhow::Error::new(Error::from(StreetsError::NoNetwork));
        assert!(hint(&e).is_some_and(|h| h.contains("patrol streets import")));
        assert_eq!(hint(&anyhow::anyhow!("something else")), None);
        assert_eq!(hint(&anyhow::Error::new(Error::Interrupted)), None);
    }
}
