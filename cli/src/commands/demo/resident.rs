//! A resident at the signboard, with no app and no account: the phone's browser opens the QR
//! code's link, and the resident reports a problem through the page's form, as plain HTTP (the
//! page's cookie kept, its form token sent back, the photo as a multipart part). The receipt page
//! it lands on is read again once the loop has run.

use anyhow::{Context as _, Result, bail};
use patrol_core::sync::{HttpMethod, HttpRequest, HttpResponse, HttpTransport};

/// What the resident keeps: the receipt page's address.
pub struct Receipt {
    pub url: String,
    /// The receipt number as the page shows it (grouped in fives).
    pub number: String,
}

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn send(
    http: &dyn HttpTransport,
    method: HttpMethod,
    url: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<HttpResponse> {
    let r = http
        .send(HttpRequest {
            method,
            url: url.to_owned(),
            headers,
            body,
            timeout: TIMEOUT,
        })
        .with_context(|| format!("{} {url}", method.as_str()))?;
    Ok(r)
}

/// The text of the element with `id` (`<... id="ID">text</...>`), entities left as they are.
fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(rest[start..end].trim().to_owned())
}

fn input_value(html: &str, name: &str) -> Option<String> {
    let key = format!("name=\"{name}\" value=\"");
    let at = html.find(&key)? + key.len();
    let end = html[at..].find('"')? + at;
    Some(html[at..end].to_owned())
}

/// Opens the signboard's page and reports `category` with one photo; returns the receipt.
pub fn report_at_signboard(
    http: &dyn HttpTransport,
    link: &str,
    category: &str,
    description: &str,
    photo: &[u8],
) -> Result<Receipt> {
    let page = send(http, HttpMethod::Get, link, Vec::new(), Vec::new())?;
    if page.status != 200 {
        bail!("the signboard's page answered {}", page.status);
    }
    let html = String::from_utf8_lossy(&page.body);
    let cookie = page
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .context("the page set no form cookie")?
        .to_owned();
    let token = input_value(&html, "form_token").context("the page has no form")?;
    let boundary = "streetpatrol-demo-7d41f0";
    let mut body = Vec::new();
    for (name, value) in [
        ("form_token", token.as_str()),
        ("website", ""),
        ("category", category),
        ("description", description),
        ("contact_phone", ""),
        ("lat", ""),
        ("lon", ""),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"IMG_0001.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let url = format!("{}/report", link.trim_end_matches('/'));
    let done = send(
        http,
        HttpMethod::Post,
        &url,
        vec![
            (
                "content-type".into(),
                format!("multipart/form-data; boundary={boundary}"),
            ),
            ("cookie".into(), cookie),
        ],
        body,
    )?;
    // The post answers 303 to the receipt, which the client follows.
    let html = String::from_utf8_lossy(&done.body);
    let number = match (done.status, element_text(&html, "token")) {
        (200, Some(n)) => n,
        (status, _) => bail!(
            "the report was not taken ({status}): {}",
            element_text(&html, "status").unwrap_or_default()
        ),
    };
    let origin = link.find("/s/").map_or(link, |i| &link[..i]);
    Ok(Receipt {
        url: format!("{origin}/r/{}", number.replace('-', "")),
        number,
    })
}

/// The status the receipt page shows now.
pub fn receipt_status(http: &dyn HttpTransport, receipt: &Receipt) -> Result<String> {
    let page = send(http, HttpMethod::Get, &receipt.url, Vec::new(), Vec::new())?;
    if page.status != 200 {
        bail!("the receipt page answered {}", page.status);
    }
    element_text(&String::from_utf8_lossy(&page.body), "status")
        .context("the receipt page shows no status")
}
