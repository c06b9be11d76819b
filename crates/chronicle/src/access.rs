//! Who may do what in a practice. Pure decisions over roles, so every rule is tested
//! without a database; the store looks the roles up inside the append transaction.

use crate::error::{Error, Result};
use crate::model::Role;

/// Event types that change memberships and so need owner or admin.
pub const MEMBERSHIP_EVENT_TYPES: [&str; 2] = ["membership.created", "membership.role_changed"];

/// A change to someone's role, as a membership event asks for it.
#[derive(Debug, Clone, Copy)]
pub struct RoleChange {
    /// The role being granted.
    pub granted: Role,
    /// The target's role before the event, if a member.
    pub current: Option<Role>,
}

/// May a member with `role` (or a non-member, `None`) append `event_type` to the practice?
/// Non-members get [`Error::PracticeNotFound`], the same as for a practice that does not
/// exist; members without the right role get [`Error::Forbidden`].
pub fn authorize_append(
    practice_id: &str,
    role: Option<Role>,
    event_type: &str,
    role_change: Option<RoleChange>,
) -> Result<()> {
    let Some(role) = role else {
        return Err(Error::PracticeNotFound {
            practice_id: practice_id.to_string(),
        });
    };
    if role == Role::Viewer {
        return Err(Error::Forbidden {
            reason: format!("a viewer may read but not append {event_type}"),
        });
    }
    if MEMBERSHIP_EVENT_TYPES.contains(&event_type) && !matches!(role, Role::Owner | Role::Admin) {
        return Err(Error::Forbidden {
            reason: format!("only an owner or admin may append {event_type}; you are {role}"),
        });
    }
    if let Some(change) = role_change
        && (change.granted == Role::Owner || change.current == Some(Role::Owner))
        && role != Role::Owner
    {
        return Err(Error::Forbidden {
            reason: format!("only an owner may grant or take away the owner role; you are {role}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(role: Option<Role>, event_type: &str, change: Option<RoleChange>) -> Result<()> {
        authorize_append("p1", role, event_type, change)
    }

    #[test]
    fn non_members_are_told_not_found_never_forbidden() {
        assert!(matches!(
            allowed(None, "patient.created", None),
            Err(Error::PracticeNotFound { .. })
        ));
    }

    #[test]
    fn viewers_cannot_append_anything() {
        assert!(matches!(
            allowed(Some(Role::Viewer), "patient.created", None),
            Err(Error::Forbidden { .. })
        ));
    }

    #[test]
    fn frontdesk_appends_everyday_events_but_not_memberships() {
        assert!(allowed(Some(Role::Frontdesk), "appointment.requested", None).is_ok());
        let change = RoleChange {
            granted: Role::Viewer,
            current: None,
        };
        assert!(matches!(
            allowed(Some(Role::Frontdesk), "membership.created", Some(change)),
            Err(Error::Forbidden { .. })
        ));
    }

    #[test]
    fn admins_manage_members_but_only_owners_touch_owners() {
        let viewer = RoleChange {
            granted: Role::Viewer,
            current: None,
        };
        assert!(allowed(Some(Role::Admin), "membership.created", Some(viewer)).is_ok());
        let grant_owner = RoleChange {
            granted: Role::Owner,
            current: Some(Role::Admin),
        };
        assert!(
            allowed(
                Some(Role::Admin),
                "membership.role_changed",
                Some(grant_owner)
            )
            .is_err()
        );
        let demote_owner = RoleChange {
            granted: Role::Viewer,
            current: Some(Role::Owner),
        };
        assert!(
            allowed(
                Some(Role::Admin),
                "membership.role_changed",
                Some(demote_owner)
            )
            .is_err()
        );
        assert!(
            allowed(
                Some(Role::Owner),
                "membership.role_changed",
                Some(grant_owner)
            )
            .is_ok()
        );
    }
}
