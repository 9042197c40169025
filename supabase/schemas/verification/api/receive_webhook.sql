create function coord.receive_webhook(p_source text, p_delivery_id text, p_event text, p_action text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  d coord.webhook_deliveries;
begin
  insert into coord.webhook_deliveries (source, delivery_id, event, action)
  values (p_source, p_delivery_id, p_event, p_action)
  on conflict (source, delivery_id) do update
    -- A redelivery is processed again only when the first attempt failed, or stalled (a crash mid-processing).
    set attempts = coord.webhook_deliveries.attempts + 1,
        state = 'received',
        received_at = now()
    where coord.webhook_deliveries.state = 'failed'
       or (coord.webhook_deliveries.state = 'received' and coord.webhook_deliveries.received_at < now() - interval '5 minutes')
  returning * into d;
  if not found then
    select * into d from coord.webhook_deliveries where source = p_source and delivery_id = p_delivery_id;
    return jsonb_build_object('process', false, 'state', d.state, 'attempts', d.attempts);
  end if;
  perform coord.emit('webhook.received', null, null, p_source || ':' || p_delivery_id,
                     jsonb_build_object('event', p_event, 'action', p_action, 'attempt', d.attempts));
  return jsonb_build_object('process', true, 'state', d.state, 'attempts', d.attempts);
end;
$$;
comment on function coord.receive_webhook(text, text, text, text) is
  'Stores a verified delivery. process=true when the caller should process it now (new, or a redelivery of a failed '
  'or stalled one); false for a duplicate of one processed or in progress.';
