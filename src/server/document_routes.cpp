// Document metadata: create and list in a workspace, get, rename, soft
// delete and restore within the retention period. Content is the op log
// (the sync endpoint); these routes only manage the catalogue.
#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>

#include "auth/json_body.h"
#include "auth/utf8.h"
#include "server/api_error.h"
#include "server/api_layer.h"
#include "server/api_routes.h"
#include "server/case_fold.h"

namespace weft::server {
namespace {

namespace json = boost::json;
using auth::Role;
using auth::RouteRequirement;

constexpr auth::StringRule kTitle{1, 200, true, false, true};

json::object DocumentJson(const store::DocumentInfo& d) {
  json::object o{{"id", d.id},
                 {"workspace_id", d.workspace_id},
                 {"kind", store::DocumentKindName(d.kind)},
                 {"title", d.title},
                 {"created_at", FormatTime(d.created_ms)},
                 {"updated_at", FormatTime(d.updated_ms)}};
  if (d.deleted_ms) o["deleted_at"] = FormatTime(*d.deleted_ms);
  return o;
}

void Record(ApiContext& api, const ApiCall& call, const store::DocumentInfo& d,
            std::string kind, json::object detail = {}) {
  store::Activity a;
  a.workspace_id = d.workspace_id;
  a.document_id = d.id;
  a.user_id = call.user_id();
  a.kind = std::move(kind);
  detail["title"] = d.title;
  a.detail = json::serialize(detail);
  a.created_ms = NowMs(api);
  (void)api.metadata->RecordActivity(a);
}

// A document deleted at `deleted_ms` can no longer be restored at `now_ms`.
bool PastRetention(const ApiContext& api, std::int64_t deleted_ms,
                   std::int64_t now_ms) {
  return now_ms >=
         deleted_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                          api.document_retention)
                          .count();
}

HttpResponse NotFound(const HttpRequest& request) {
  return ErrorResponse(404, "not_found", "no such resource",
                       request.request_id);
}

HttpResponse CreateDocument(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string kind = v.RequiredEnum("kind", {"text", "board", "canvas"});
  std::string title = v.RequiredString("title", kTitle);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  store::DocumentInfo d;
  d.id = NewId();
  d.workspace_id = call.workspace_id;
  d.kind = *store::ParseDocumentKind(kind);
  d.title = title;
  d.created_by = call.user_id();
  d.created_ms = d.updated_ms = NowMs(api);
  if (Status s = api.metadata->CreateDocument(d); !s.ok()) {
    return StatusError(s, call.request);
  }
  Record(api, call, d, "document.created", {{"kind", kind}});
  return JsonResponse(DocumentJson(d), 201);
}

HttpResponse ListDocuments(ApiContext& api, ApiCall& call) {
  std::string cursor = QueryParam(call.request, "cursor");
  std::string q = FoldCase(QueryParam(call.request, "q"));
  std::string limit_text = QueryParam(call.request, "limit");
  std::string deleted = QueryParam(call.request, "deleted");
  auth::FieldErrors errors;
  std::size_t limit = 50;
  if (!limit_text.empty()) {
    auto [p, ec] = std::from_chars(
        limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (ec != std::errc() || p != limit_text.data() + limit_text.size() ||
        limit < 1 || limit > 200) {
      errors.Add("limit", "out_of_range");
    }
  }
  if (!deleted.empty() && deleted != "true" && deleted != "false") {
    errors.Add("deleted", "must_be_boolean");
  }
  if (auto n = auth::Utf8Length(q); !n || *n > 200) {
    errors.Add("q", n ? "too_long" : "invalid_utf8");
  }
  if (!errors.empty()) return ValidationError(errors, call.request);
  bool want_deleted = deleted == "true";
  const std::int64_t now_ms = NowMs(api);
  auto all = api.metadata->ListDocuments(call.workspace_id, want_deleted);
  if (!all.ok()) return StatusError(all.status(), call.request);
  // The cursor compares ids bytewise; PostgreSQL orders text by its
  // collation, which may differ, so order here.
  std::sort(all->begin(), all->end(),
            [](const store::DocumentInfo& a, const store::DocumentInfo& b) {
              return a.id < b.id;
            });
  json::array items;
  std::string last;
  bool more = false;
  for (const auto& d : *all) {  // ordered by id: the cursor is the last id
    if (!cursor.empty() && d.id <= cursor) continue;
    if (d.deleted_ms.has_value() != want_deleted) continue;
    // Past its retention it can no longer be restored; the purge removes
    // it within an unload interval.
    if (d.deleted_ms && PastRetention(api, *d.deleted_ms, now_ms)) continue;
    if (!q.empty() && FoldCase(d.title).find(q) == std::string::npos) continue;
    if (items.size() == limit) {
      more = true;
      break;
    }
    items.push_back(DocumentJson(d));
    last = d.id;
  }
  return JsonResponse(
      json::object{{"items", std::move(items)},
                   {"next_cursor", more ? json::value(last) : nullptr}});
}

HttpResponse GetDocument(ApiContext&, ApiCall& call) {
  if (call.document->deleted_ms) return NotFound(call.request);
  return JsonResponse(DocumentJson(*call.document));
}

HttpResponse GetDocumentContent(ApiContext& api, ApiCall& call) {
  if (call.document->deleted_ms) return NotFound(call.request);
  if (!api.document_content) {
    return StatusError(Status::Unavailable("content is not served"),
                       call.request);
  }
  auto content = api.document_content(call.document->id);
  if (!content.ok()) return StatusError(content.status(), call.request);
  HttpResponse r;
  r.body = std::move(*content);
  return r;
}

HttpResponse RenameDocument(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string title = v.RequiredString("title", kTitle);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  if (call.document->deleted_ms) return NotFound(call.request);
  std::int64_t now_ms = NowMs(api);
  if (Status s = api.metadata->RenameDocument(call.document->id, title, now_ms);
      !s.ok()) {
    return StatusError(s, call.request);
  }
  std::string from = call.document->title;
  call.document->title = title;
  call.document->updated_ms = now_ms;
  Record(api, call, *call.document, "document.renamed", {{"from", from}});
  return JsonResponse(DocumentJson(*call.document));
}

HttpResponse DeleteDocument(ApiContext& api, ApiCall& call) {
  if (call.document->deleted_ms) return NotFound(call.request);
  if (Status s =
          api.metadata->SoftDeleteDocument(call.document->id, NowMs(api));
      !s.ok()) {
    return StatusError(s, call.request);
  }
  Record(api, call, *call.document, "document.deleted");
  // Live sessions on it lose it now; if the members cannot be read, every
  // session is checked (it stayed open to them until the purge).
  if (auto members = api.metadata->ListMembers(call.workspace_id);
      members.ok()) {
    for (const auto& m : *members) NotifyAccessChanged(api, m.user_id);
  } else {
    NotifyAccessChangedForAll(api);
  }
  return NoContent();
}

HttpResponse RestoreDocument(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  if (!call.document->deleted_ms) {
    return ErrorResponse(409, "not_deleted", "the document is not deleted",
                         call.request.request_id);
  }
  const std::int64_t now_ms = NowMs(api);
  if (PastRetention(api, *call.document->deleted_ms, now_ms)) {
    return ErrorResponse(410, "retention_expired",
                         "the document was deleted too long ago to restore",
                         call.request.request_id);
  }
  if (Status s = api.metadata->RestoreDocument(call.document->id, now_ms);
      !s.ok()) {
    return StatusError(s, call.request);
  }
  auto d = api.metadata->GetDocument(call.document->id);
  if (!d.ok()) return StatusError(d.status(), call.request);
  Record(api, call, *d, "document.restored");
  return JsonResponse(DocumentJson(*d));
}

}  // namespace

void AddDocumentRoutes(Router& router, ApiContext& api) {
  auto viewer = RouteRequirement::Member(Role::kViewer);
  auto editor = RouteRequirement::Member(Role::kEditor);
  constexpr auto kWs = ApiScope::kWorkspace;
  constexpr auto kDoc = ApiScope::kDocument;
  AddApiRoute(router, api,
              {"POST", "/api/v1/workspaces/{id}/documents", editor, kWs,
               ApiLimit::kPerUser, true},
              CreateDocument);
  AddApiRoute(router, api,
              {"GET", "/api/v1/workspaces/{id}/documents", viewer, kWs},
              ListDocuments);
  AddApiRoute(router, api, {"GET", "/api/v1/documents/{id}", viewer, kDoc},
              GetDocument);
  AddApiRoute(router, api,
              {"GET", "/api/v1/documents/{id}/content", viewer, kDoc},
              GetDocumentContent);
  AddApiRoute(router, api, {"PATCH", "/api/v1/documents/{id}", editor, kDoc},
              RenameDocument);
  AddApiRoute(router, api, {"DELETE", "/api/v1/documents/{id}", editor, kDoc},
              DeleteDocument);
  AddApiRoute(router, api,
              {"POST", "/api/v1/documents/{id}/restore", editor, kDoc},
              RestoreDocument);
}

Result<std::size_t> PurgeExpiredDocuments(ApiContext& api, std::size_t limit) {
  std::int64_t retention_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          api.document_retention)
          .count();
  auto expired =
      api.metadata->ListDeletedBefore(NowMs(api) - retention_ms, limit);
  if (!expired.ok()) return expired.status();
  std::size_t purged = 0;
  for (const auto& d : *expired) {
    // The content first: a row left behind is purged next time, content
    // without a row would never be.
    if (api.purge_document) WEFT_RETURN_IF_ERROR(api.purge_document(d.id));
    Status s = api.metadata->PurgeDocument(d.id);
    // Restored meanwhile (kNotFound): its content is gone, but it was
    // past its retention, so restore had already refused it; keep going.
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    ++purged;
  }
  return purged;
}

}  // namespace weft::server
