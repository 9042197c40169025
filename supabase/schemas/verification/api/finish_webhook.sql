create function coord.finish_webhook(p_source text, p_delivery_id text, p_ok boolean, p_error text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  update coord.webhook_deliveries
     set state = case when p_ok then 'processed' else 'failed' end, error = left(p_error, 1000), processed_at = now()
   where source = p_source and delivery_id = p_delivery_id;
  perform coord.emit(case when p_ok then 'webhook.processed' else 'webhook.failed' end, null, null,
                     p_source || ':' || p_delivery_id, jsonb_build_object('error', left(p_error, 200)));
  return jsonb_build_object('state', case when p_ok then 'processed' else 'failed' end);
end;
$$;
comment on function coord.finish_webhook(text, text, boolean, text) is 'Marks a delivery processed or failed (with a short error, never secrets).';
