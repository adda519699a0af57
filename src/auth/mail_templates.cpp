#include "auth/mail_templates.h"

#include <string>

namespace weft::auth {
namespace {

std::string Plural(std::int64_t n, std::string_view unit) {
  std::string out = std::to_string(n) + " " + std::string(unit);
  if (n != 1) out += "s";
  return out;
}

}  // namespace

std::string DescribeDuration(std::chrono::seconds d) {
  const std::int64_t s = d.count();
  if (s != 0 && s % 86400 == 0) return Plural(s / 86400, "day");
  if (s != 0 && s % 3600 == 0) return Plural(s / 3600, "hour");
  if (s != 0 && s % 60 == 0) return Plural(s / 60, "minute");
  return Plural(s, "second");
}

MailMessage PasswordResetMail(std::string_view to, std::string_view reset_url,
                              std::chrono::seconds lifetime) {
  MailMessage m;
  m.to = std::string(to);
  m.subject = "Reset your weft password";
  m.text_body =
      "Someone (hopefully you) asked to reset the password of your weft "
      "account.\n\n"
      "To choose a new password, open this link within " +
      DescribeDuration(lifetime) + ":\n\n" + std::string(reset_url) +
      "\n\n"
      "The link works once. Setting a new password signs you out "
      "everywhere.\n"
      "If you did not ask for this, ignore this email: your password stays "
      "as it is.\n";
  return m;
}

MailMessage InvitationMail(std::string_view to, std::string_view inviter,
                           std::string_view workspace, Role role,
                           std::string_view accept_url,
                           std::chrono::seconds lifetime) {
  MailMessage m;
  m.to = std::string(to);
  m.subject = "You are invited to a weft workspace";
  m.text_body = "\"" + std::string(inviter) +
                "\" invites you to the weft workspace \"" +
                std::string(workspace) + "\" as " +
                std::string(RoleName(role)) + ".\n\n" +
                "To accept, sign in (or create an account with this email "
                "address) and open this link within " +
                DescribeDuration(lifetime) + ":\n\n" + std::string(accept_url) +
                "\n\n"
                "The link works once. If you do not know the sender, ignore "
                "this email.\n";
  return m;
}

}  // namespace weft::auth
