//! Who may do what in a practice. Pure decisions over roles, so every rule is tested
//! without a database; the store looks the roles up inside the append transaction.

use crate::error::{Error, Result};
use crate::model::{ActorType, Role};

/// Event types that change memberships and so need owner or admin.
pub const MEMBERSHIP_EVENT_TYPES: [&str; 3] = [
    "membership.created",
    "membership.role_changed",
    "membership.removed",
];

/// Event types about the store's projectors, appended by the projector operations (owner or
/// admin) and never by an ordinary append.
pub const PROJECTOR_EVENT_TYPES: [&str; 1] = ["projector.event_skipped"];

/// What a caller may do in one practice, from the same role table the engine enforces. Every
/// read of a practice returns it, so a UI enables and explains its controls from this and never
/// from its own copy of the rules.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// Read events, aggregates and read models (every member).
    pub read: bool,
    /// Append everyday events (owner, admin, frontdesk).
    pub append: bool,
    /// Grant and change roles other than owner (owner, admin).
    pub manage_members: bool,
    /// Grant or take away the owner role (owner).
    pub grant_owner: bool,
    /// Reset, retry and skip a poison event of projectors (owner, admin).
    pub manage_projectors: bool,
    /// Append events whose actor is `system` (owner, admin): who appended them is recorded
    /// either way, as `recordedBy`.
    pub act_as_system: bool,
    /// Export timelines (every member: what they may read, they may take away).
    pub export: bool,
}

impl Capabilities {
    /// The capabilities of a member with `role`; `None` is the system principal (local tools
    /// that hold the database), which may do everything.
    pub fn of(role: Option<Role>) -> Self {
        let rank = role.unwrap_or(Role::Owner);
        Capabilities {
            read: true,
            append: rank != Role::Viewer,
            manage_members: matches!(rank, Role::Owner | Role::Admin),
            grant_owner: rank == Role::Owner,
            manage_projectors: matches!(rank, Role::Owner | Role::Admin),
            act_as_system: matches!(rank, Role::Owner | Role::Admin),
            export: true,
        }
    }
}

/// May a member with `role` (`None`: the system principal) reset or retry a projector?
pub fn authorize_projector_operation(role: Option<Role>, action: &str) -> Result<()> {
    match role {
        Some(role) if !Capabilities::of(Some(role)).manage_projectors => Err(Error::Forbidden {
            reason: format!("only an owner or admin may {action} a projector; you are {role}"),
        }),
        _ => Ok(()),
    }
}

/// A change to someone's role, as a membership event asks for it.
#[derive(Debug, Clone, Copy)]
pub struct RoleChange {
    /// The role being granted; `None` when the member is removed.
    pub granted: Option<Role>,
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
    let may = Capabilities::of(Some(role));
    if !may.append {
        return Err(Error::Forbidden {
            reason: format!("a viewer may read but not append {event_type}"),
        });
    }
    if MEMBERSHIP_EVENT_TYPES.contains(&event_type) && !may.manage_members {
        return Err(Error::Forbidden {
            reason: format!("only an owner or admin may append {event_type}; you are {role}"),
        });
    }
    if let Some(change) = role_change
        && (change.granted == Some(Role::Owner) || change.current == Some(Role::Owner))
        && !may.grant_owner
    {
        return Err(Error::Forbidden {
            reason: format!("only an owner may grant or take away the owner role; you are {role}"),
        });
    }
    if PROJECTOR_EVENT_TYPES.contains(&event_type) && !may.manage_projectors {
        return Err(Error::Forbidden {
            reason: format!("only an owner or admin may append {event_type}; you are {role}"),
        });
    }
    Ok(())
}

/// Which actor a member may name. `human` is always the member themself (the store fills in
/// or checks the id); `ai` names an agent acting through any member who may append; `system`
/// (work done on behalf of the practice) only an owner or admin. Whatever the actor, the
/// event records the member as `recordedBy`, so no claim hides who appended it.
pub fn authorize_actor(role: Option<Role>, actor_type: ActorType) -> Result<()> {
    match role {
        Some(role)
            if actor_type == ActorType::System && !Capabilities::of(Some(role)).act_as_system =>
        {
            Err(Error::Forbidden {
                reason: format!(
                    "only an owner or admin may append events with actorType \"system\"; you are {role}"
                ),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(role: Option<Role>, event_type: &str, change: Option<RoleChange>) -> Result<()> {
        authorize_append("p1", role, event_type, change)
    }

    #[test]
    fn capabilities_follow_the_role_table() {
        let viewer = Capabilities::of(Some(Role::Viewer));
        assert!(viewer.read && viewer.export && !viewer.append && !viewer.manage_projectors);
        let frontdesk = Capabilities::of(Some(Role::Frontdesk));
        assert!(frontdesk.append && !frontdesk.manage_members && !frontdesk.manage_projectors);
        let admin = Capabilities::of(Some(Role::Admin));
        assert!(admin.manage_members && admin.manage_projectors && !admin.grant_owner);
        assert!(Capabilities::of(Some(Role::Owner)).grant_owner);
        assert_eq!(
            Capabilities::of(None),
            Capabilities::of(Some(Role::Owner)),
            "the system principal may do everything"
        );
    }

    #[test]
    fn only_owners_and_admins_operate_projectors() {
        assert!(authorize_projector_operation(Some(Role::Admin), "retry").is_ok());
        assert!(authorize_projector_operation(None, "retry").is_ok());
        let refused = authorize_projector_operation(Some(Role::Frontdesk), "reset").unwrap_err();
        assert!(
            matches!(&refused, Error::Forbidden { reason } if reason.contains("you are frontdesk")),
            "{refused}"
        );
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
            granted: Some(Role::Viewer),
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
            granted: Some(Role::Viewer),
            current: None,
        };
        assert!(allowed(Some(Role::Admin), "membership.created", Some(viewer)).is_ok());
        let grant_owner = RoleChange {
            granted: Some(Role::Owner),
            current: Some(Role::Admin),
        };
        assert!(
            matches!(
                allowed(Some(Role::Admin), "membership.role_changed", Some(grant_owner)),
                Err(Error::Forbidden { reason }) if reason.contains("only an owner")
            ),
            "an admin may not touch the owner role (grant_owner)"
        );
        let demote_owner = RoleChange {
            granted: Some(Role::Viewer),
            current: Some(Role::Owner),
        };
        assert!(
            matches!(
                allowed(Some(Role::Admin), "membership.role_changed", Some(demote_owner)),
                Err(Error::Forbidden { reason }) if reason.contains("only an owner")
            ),
            "an admin may not touch the owner role (demote_owner)"
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

    #[test]
    fn only_owners_remove_owners_and_only_managers_append_projector_events() {
        let remove_owner = RoleChange {
            granted: None,
            current: Some(Role::Owner),
        };
        assert!(matches!(
            allowed(Some(Role::Admin), "membership.removed", Some(remove_owner)),
            Err(Error::Forbidden { reason }) if reason.contains("only an owner")
        ));
        assert!(allowed(Some(Role::Owner), "membership.removed", Some(remove_owner)).is_ok());
        assert!(matches!(
            allowed(Some(Role::Frontdesk), "membership.removed", None),
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            allowed(Some(Role::Frontdesk), "projector.event_skipped", None),
            Err(Error::Forbidden { .. })
        ));
        assert!(allowed(Some(Role::Admin), "projector.event_skipped", None).is_ok());
    }

    #[test]
    fn the_system_actor_is_for_owners_and_admins() {
        assert!(authorize_actor(Some(Role::Frontdesk), ActorType::Ai).is_ok());
        assert!(matches!(
            authorize_actor(Some(Role::Frontdesk), ActorType::System),
            Err(Error::Forbidden { .. })
        ));
        assert!(authorize_actor(Some(Role::Admin), ActorType::System).is_ok());
        assert!(authorize_actor(None, ActorType::System).is_ok());
    }
}
