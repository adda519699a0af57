#pragma once

#include "common/status.h"
#include "load_options.h"
#include "load_report.h"
#include "rest_setup.h"

namespace weft::load {

// Runs the load described by `options` on a workspace made by
// SetUpThroughRest: connects every user (asynchronously, a few threads),
// types (or, with options.idle, holds the connections), drains, then
// checks every document against a fresh replica read from the server and
// its REST content. Progress lines go to stderr once a second. Writes the
// acknowledged change ids to options.acked_path when set.
Result<LoadResult> RunLoad(const LoadOptions& options, const Endpoint& endpoint,
                           const LoadSetup& setup);

// Reads a file written through options.acked_path and checks that every
// change it lists is in its document on the server now.
Result<LoadResult> RunVerify(const LoadOptions& options,
                             const Endpoint& endpoint);

}  // namespace weft::load
