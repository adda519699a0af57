#pragma once

#include <chrono>
#include <string_view>

#include "auth/mailer.h"
#include "auth/role.h"

namespace weft::auth {

// The text of the emails weft sends. Names a user chose (display name,
// workspace name) are quoted in the body and never put in the subject, so
// they cannot pose as weft's own words in the inbox list. Links must be
// absolute https (or http for development) URLs built by the server from
// its configured public base URL, never from request headers. Pure.

// To `to`, with `reset_url` (which carries the token) valid for `lifetime`.
MailMessage PasswordResetMail(std::string_view to, std::string_view reset_url,
                              std::chrono::seconds lifetime);

// To `to`: `inviter` invites them to `workspace` as `role`; `accept_url`
// carries the invitation token, valid for `lifetime`.
MailMessage InvitationMail(std::string_view to, std::string_view inviter,
                           std::string_view workspace, Role role,
                           std::string_view accept_url,
                           std::chrono::seconds lifetime);

// "1 hour", "7 days", "90 minutes": the largest whole unit that divides
// `d` (days, hours, minutes, else seconds).
std::string DescribeDuration(std::chrono::seconds d);

}  // namespace weft::auth
