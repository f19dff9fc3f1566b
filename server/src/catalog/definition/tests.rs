use app::wire::{RenderedDefinition, TokenClass};

use super::render;

/// The `spec.definition` of a bundled catalog file (inline, or its `$text` file).
fn bundled(file: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/apis/");
    let text = std::fs::read_to_string(format!("{dir}{file}")).expect("bundled API file");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    match &doc["spec"]["definition"] {
        serde_yaml::Value::String(s) => s.clone(),
        other => {
            let target = other["$text"].as_str().expect("$text");
            std::fs::read_to_string(format!("{dir}{}", target.trim_start_matches("./")))
                .expect("definition file")
        }
    }
}

#[test]
fn openapi_operations_parameters_and_schemas_in_document_order() {
    let d = render("openapi", bundled("cart-api.yaml"));
    assert_eq!(d.problem, None);
    let Some(RenderedDefinition::OpenApi(doc)) = d.rendered else {
        panic!("not rendered: {:?}", d.problem)
    };
    assert_eq!(doc.info.title, "Cart API");
    assert!(doc.version.starts_with("3."));
    let first = &doc.operations[0];
    assert_eq!(first.method, "GET");
    assert!(first.path.starts_with("/carts"), "{first:?}");
    assert!(
        doc.operations
            .iter()
            .flat_map(|o| &o.parameters)
            .any(|p| p.place == "path" && p.required),
        "{:?}",
        doc.operations
    );
    assert!(doc.operations.iter().any(|o| !o.responses.is_empty()));
    assert!(
        doc.schemas
            .iter()
            .any(|s| s.name == "Cart" && !s.fields.is_empty()),
        "{:?}",
        doc.schemas
    );
}

#[test]
fn openapi_3_1_type_lists_and_refs() {
    let text = r#"
openapi: 3.1.0
info: { title: T, version: "1" }
paths:
  /b/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
    post:
      summary: Make
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Thing' }
      responses:
        '201': { description: Made, content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/Thing' } } } } }
  /a:
    get: { responses: { '200': { description: ok } } }
components:
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name: { type: [string, "null"] }
        when: { type: string, format: date-time }
"#;
    let d = render("OpenAPI", text.into());
    let Some(RenderedDefinition::OpenApi(doc)) = d.rendered else {
        panic!("{:?}", d.problem)
    };
    // Document order, not alphabetical.
    assert_eq!(doc.operations[0].path, "/b/{id}");
    assert_eq!(doc.operations[0].parameters[0].name, "id");
    assert_eq!(
        doc.operations[0].request_body,
        vec!["application/json: Thing".to_string()]
    );
    assert_eq!(
        doc.operations[0].responses[0],
        ("201".into(), "Made (array of Thing)".into())
    );
    let thing = &doc.schemas[0];
    assert_eq!(thing.fields[0].type_text, "string or null");
    assert!(thing.fields[0].required);
    assert_eq!(thing.fields[1].type_text, "string (date-time)");
}

#[test]
fn asyncapi_2_channels_and_message_payloads() {
    let d = render("asyncapi", bundled("order-events-api.yaml"));
    let Some(RenderedDefinition::AsyncApi(doc)) = d.rendered else {
        panic!("{:?}", d.problem)
    };
    assert_eq!(doc.info.title, "Order events");
    assert!(
        doc.info.servers[0].contains("kafka"),
        "{:?}",
        doc.info.servers
    );
    let channel = &doc.channels[0];
    assert!(!channel.actions.is_empty(), "{channel:?}");
    assert!(
        channel.messages.iter().any(|m| !m.fields.is_empty()),
        "{channel:?}"
    );
}

#[test]
fn asyncapi_3_operations_name_their_channels() {
    let text = r#"
asyncapi: 3.0.0
info: { title: Lights, version: "1" }
channels:
  lightMeasured:
    address: 'smartylighting/{id}/measured'
    messages:
      measured: { $ref: '#/components/messages/Measured' }
operations:
  onMeasured:
    action: receive
    channel: { $ref: '#/channels/lightMeasured' }
components:
  messages:
    Measured:
      name: measured
      payload: { type: object, properties: { lumens: { type: integer } } }
"#;
    let d = render("asyncapi", text.into());
    let Some(RenderedDefinition::AsyncApi(doc)) = d.rendered else {
        panic!("{:?}", d.problem)
    };
    let c = &doc.channels[0];
    assert_eq!(c.name, "smartylighting/{id}/measured (lightMeasured)");
    assert_eq!(c.actions, vec!["receive".to_string()]);
    assert_eq!(c.messages[0].name, "measured");
    assert_eq!(c.messages[0].fields[0].name, "lumens");
    assert_eq!(c.messages[0].fields[0].type_text, "integer");
}

#[test]
fn graphql_types_fields_and_arguments() {
    let d = render("graphql", bundled("product-catalog-graphql-api.yaml"));
    let Some(RenderedDefinition::GraphQl(types)) = d.rendered else {
        panic!("{:?}", d.problem)
    };
    let product = types.iter().find(|t| t.name == "Product").expect("Product");
    assert_eq!(product.kind, "type");
    let sku = product
        .fields
        .iter()
        .find(|f| f.name == "sku")
        .expect("sku");
    assert_eq!(sku.type_text, "String!");
    assert!(sku.required);
    assert!(sku
        .description
        .as_deref()
        .unwrap_or("")
        .contains("Stock keeping unit"));
    assert!(types.iter().any(|t| t.kind == "schema"));
}

#[test]
fn proto_is_highlighted_losslessly() {
    let text = bundled("payments-grpc-api.yaml");
    let d = render("grpc", text.clone());
    let Some(RenderedDefinition::Source(tokens)) = d.rendered else {
        panic!("not rendered")
    };
    let joined: String = tokens.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(joined, text);
    let has = |class: TokenClass, s: &str| {
        tokens
            .iter()
            .any(|t| t.class == class && t.text.contains(s))
    };
    assert!(has(TokenClass::Keyword, "service"));
    assert!(has(TokenClass::Type, "PaymentGateway"));
    assert!(has(TokenClass::Str, "\"proto3\""));
    assert!(has(TokenClass::Comment, "// Card payments"));
    // Unterminated input ends quietly.
    for odd in ["/* never closed", "\"open string", "x = 'é", "1.5e3é"] {
        let Some(RenderedDefinition::Source(t)) = render("grpc", odd.into()).rendered else {
            panic!()
        };
        assert_eq!(t.iter().map(|t| t.text.as_str()).collect::<String>(), odd);
    }
}

#[test]
fn unreadable_or_hostile_definitions_are_text_with_a_reason() {
    let d = render("openapi", "openapi: [unclosed".into());
    assert!(d.rendered.is_none());
    assert!(d
        .problem
        .as_deref()
        .unwrap_or("")
        .starts_with("The OpenAPI definition could not be read"));
    let d = render("graphql", "type {".into());
    assert!(d
        .problem
        .as_deref()
        .unwrap_or("")
        .starts_with("The GraphQL schema could not be read"));
    // Deep nesting never reaches a recursive parser.
    let deep = format!(
        "type Q {{ f: {}Int{} }}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let d = render("graphql", deep);
    assert!(
        d.problem
            .as_deref()
            .unwrap_or("")
            .contains("deeper than 64"),
        "{:?}",
        d.problem
    );
    // An unknown format is shown as text, without a complaint.
    let d = render("trpc", "anything".into());
    assert_eq!((d.rendered, d.problem), (None, None));
}

#[test]
fn huge_definitions_are_capped_and_say_so() {
    let mut text = String::from("openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n");
    for i in 0..(super::MAX_ITEMS + 20) {
        text.push_str(&format!(
            "  /p{i}:\n    get: {{responses: {{'200': {{description: ok}}}}}}\n"
        ));
    }
    let d = render("openapi", text);
    let Some(RenderedDefinition::OpenApi(doc)) = d.rendered else {
        panic!("{:?}", d.problem)
    };
    assert_eq!(doc.operations.len(), super::MAX_ITEMS);
    assert!(
        d.problem
            .as_deref()
            .unwrap_or("")
            .contains("only the first 500 of 520 operations"),
        "{:?}",
        d.problem
    );
}

#[test]
fn self_referring_definitions_end() {
    let text = r#"
openapi: 3.0.3
info: { title: T, version: "1" }
paths:
  /a:
    parameters: [{ $ref: '#/components/parameters/P' }]
    get: { responses: { '200': { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/A' } } } } } }
components:
  parameters:
    P: { $ref: '#/components/parameters/P' }
  schemas:
    A: { $ref: '#/components/schemas/A' }
    B: { allOf: [{ $ref: '#/components/schemas/B' }, { $ref: '#/components/schemas/A' }] }
    Tree:
      type: object
      properties:
        children: { type: array, items: { $ref: '#/components/schemas/Tree' } }
"#;
    let d = render("openapi", text.into());
    let Some(RenderedDefinition::OpenApi(doc)) = d.rendered else {
        panic!("{:?}", d.problem)
    };
    assert!(doc.operations[0].parameters.is_empty());
    let tree = doc.schemas.iter().find(|s| s.name == "Tree").expect("Tree");
    assert_eq!(tree.fields[0].type_text, "array of Tree");
    let text = r#"
asyncapi: 2.6.0
info: { title: T, version: "1" }
channels:
  c:
    subscribe:
      message: { $ref: '#/components/messages/M' }
components:
  messages:
    M: { payload: { $ref: '#/components/schemas/S' } }
  schemas:
    S: { allOf: [{ $ref: '#/components/schemas/S' }] }
"#;
    let d = render("asyncapi", text.into());
    assert!(
        matches!(d.rendered, Some(RenderedDefinition::AsyncApi(_))),
        "{:?}",
        d.problem
    );
}
