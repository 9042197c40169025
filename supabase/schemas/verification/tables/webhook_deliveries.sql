create table coord.webhook_deliveries (
  source       text not null check (source in ('github', 'callback')),
  delivery_id  text not null check (length(delivery_id) between 1 and 200),
  event        text not null,
  action       text,
  state        text not null default 'received' check (state in ('received', 'processed', 'failed')),
  attempts     int not null default 1,
  error        text,
  received_at  timestamptz not null default now(),
  processed_at timestamptz,
  primary key (source, delivery_id)
);
comment on table coord.webhook_deliveries is
  'Every verified webhook delivery (GitHub X-GitHub-Delivery, callback webhook-id) with its processing state: a '
  'duplicate of a processed delivery is a no-op, a redelivery of a failed one is processed again. Payloads are not '
  'kept: a redelivery carries its payload again, and payloads may name things that do not belong in a log.';

alter table coord.webhook_deliveries enable row level security;
