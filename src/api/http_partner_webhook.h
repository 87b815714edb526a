#pragma once
// The HTTP implementation of incentive::PartnerWebhook: one POST per call with HttpClient, on a
// fresh connection, within the request's timeout. Only http:// URLs (partners sit behind the
// city's gateway, which terminates TLS).

#include "incentive/benefit_service.h"

namespace tph::api {

//! Shared between threads: each call uses its own client.
class HttpPartnerWebhook final : public incentive::PartnerWebhook {
 public:
  incentive::WebhookReply deliver(const incentive::WebhookRequest& request) override;
};

}  // namespace tph::api
